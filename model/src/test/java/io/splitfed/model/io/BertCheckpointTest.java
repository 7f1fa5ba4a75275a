package io.splitfed.model.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.model.config.ModelFamily;
import io.splitfed.model.tensor.HostTensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** A user's BERT in Hugging Face layout (bert-base, MiniLM, e5, bge): config.json and safetensors. */
class BertCheckpointTest {

    @TempDir
    Path tmp;

    @Test
    void aHuggingFaceDirectoryWrittenFromTheBuiltInModelLoadsBackTheSame() {
        LoadedWeights builtin = CheckpointLoader.load(Path.of(BuiltinModels.MINILM));
        Path dir = tmp.resolve("minilm");
        HfCheckpoint.write(dir, builtin.config(), builtin.tensors());
        LoadedWeights back = CheckpointLoader.load(dir);
        assertThat(back.config()).isEqualTo(builtin.config());
        assertThat(back.tensors().keySet()).isEqualTo(builtin.tensors().keySet());
        for (Map.Entry<String, HostTensor> e : builtin.tensors().entrySet()) {
            assertThat(java.util.Arrays.equals(back.tensors().get(e.getKey()).data(), e.getValue().data())).as(e.getKey()).isTrue();
        }
    }

    @Test
    void taskModelPrefixesOldLayerNormNamesAndMlmHeadsAreHandled() throws Exception {
        LoadedWeights builtin = CheckpointLoader.load(Path.of(BuiltinModels.MINILM));
        Map<String, HostTensor> saved = new LinkedHashMap<>();
        builtin.tensors().forEach((k, v) -> saved.put("bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"), v));
        saved.put("cls.predictions.bias", HostTensor.zeros(builtin.config().vocabSize()));
        saved.put("bert.embeddings.position_ids", HostTensor.zeros(1, 512));
        Path dir = Files.createDirectories(tmp.resolve("bert-for-pretraining"));
        HfCheckpoint.write(tmp.resolve("plain"), builtin.config(), builtin.tensors());
        Files.copy(tmp.resolve("plain/config.json"), dir.resolve("config.json"));
        SafetensorsFile.write(dir.resolve("model.safetensors"), saved, Map.of("format", "pt"));
        LoadedWeights back = CheckpointLoader.load(dir);
        assertThat(back.config().family()).isEqualTo(ModelFamily.BERT);
        assertThat(back.tensors().keySet()).isEqualTo(builtin.tensors().keySet());
    }

    @Test
    void aMissingProjectionIsNamedWithWhatConfigJsonImplies() throws Exception {
        LoadedWeights builtin = CheckpointLoader.load(Path.of(BuiltinModels.MINILM));
        Map<String, HostTensor> partial = new LinkedHashMap<>(builtin.tensors());
        partial.remove("encoder.layer.4.attention.self.key.weight");
        Path dir = tmp.resolve("partial");
        HfCheckpoint.write(dir, builtin.config(), partial);
        assertThatThrownBy(() -> CheckpointLoader.load(dir))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining("model.safetensors")
                .hasMessageContaining("encoder.layer.4.attention.self.key.weight");
    }
}
