package io.splitfed.model.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.model.io.onnx.OnnxProtos.GraphProto;
import io.splitfed.model.io.onnx.OnnxProtos.ModelProto;
import io.splitfed.model.io.onnx.OnnxProtos.NodeProto;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** An ONNX export read from a user's path; broken files fail with the file named and what was expected. */
class OnnxCheckpointTest {

    private static byte[] minilm;

    @TempDir
    Path tmp;

    @BeforeAll
    static void readBuiltin() throws Exception {
        try (InputStream in = OnnxCheckpointTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
            minilm = in.readAllBytes();
        }
    }

    private static final String CONFIG = """
            {"model_type": "bert", "vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6,
             "num_attention_heads": 12, "intermediate_size": 1536, "max_position_embeddings": 512,
             "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
            """;

    @Test
    void anExportOnDiskWithItsConfigOneFolderUpLoadsLikeTheBuiltInModel() throws Exception {
        // Optimum's layout: config.json at the top, the graph under onnx/
        Files.writeString(tmp.resolve("config.json"), CONFIG);
        Path file = Files.createDirectories(tmp.resolve("onnx")).resolve("model.onnx");
        Files.write(file, minilm);
        LoadedWeights disk = CheckpointLoader.load(file);
        LoadedWeights builtin = CheckpointLoader.load(Path.of(BuiltinModels.MINILM));
        assertThat(disk.config()).isEqualTo(builtin.config());
        assertThat(disk.tensors().keySet()).isEqualTo(builtin.tensors().keySet());
        assertThat(disk.tensors().get("encoder.layer.3.attention.self.query.weight").data())
                .containsExactly(builtin.tensors().get("encoder.layer.3.attention.self.query.weight").data());
    }

    @Test
    void aTruncatedFileIsNamedAndSaidToBeTruncated() throws Exception {
        Files.writeString(tmp.resolve("config.json"), CONFIG);
        Path file = tmp.resolve("model.onnx");
        Files.write(file, java.util.Arrays.copyOf(minilm, minilm.length / 3));
        assertThatThrownBy(() -> CheckpointLoader.load(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("truncated")
                .hasMessageContaining("expected a complete ONNX ModelProto");
    }

    @Test
    void matMulWeightsThatNoModuleNamesAreRefused() throws Exception {
        Files.writeString(tmp.resolve("config.json"), CONFIG);
        ModelProto model = ModelProto.parseFrom(minilm);
        GraphProto.Builder graph = model.getGraph().toBuilder();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto node = graph.getNode(i);
            if (node.getName().equals("/encoder/layer.2/attention/self/value/MatMul")) {
                graph.setNode(i, node.toBuilder().setName("MatMul_" + i));
            }
        }
        Path file = tmp.resolve("renamed.onnx");
        Files.write(file, model.toBuilder().setGraph(graph).build().toByteArray());
        assertThatThrownBy(() -> CheckpointLoader.load(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not named after a module")
                .hasMessageContaining("/encoder/layer.0/attention/self/query/MatMul");
    }

    @Test
    void anExportWithoutItsConfigSaysWhatItNeeds() throws Exception {
        Path file = Files.createDirectories(tmp.resolve("a/b")).resolve("model.onnx");
        Files.write(file, minilm);
        assertThatThrownBy(() -> CheckpointLoader.load(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("num_attention_heads");
    }
}
