package io.splitfed.model.io;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.config.ModelFamily;
import io.splitfed.model.io.onnx.OnnxProtos.GraphProto;
import io.splitfed.model.io.onnx.OnnxProtos.ModelProto;
import io.splitfed.model.io.onnx.OnnxProtos.NodeProto;
import io.splitfed.model.io.onnx.OnnxProtos.TensorProto;
import io.splitfed.model.tensor.HostTensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A BERT-family encoder exported to ONNX by Hugging Face Optimum or transformers.js
 * ({@code last_hidden_state} out, no pooler). Embeddings, LayerNorms and biases are initializers
 * under their Hugging Face names; each projection's matrix is an anonymous initializer
 * ({@code onnx::MatMul_787}) stored (in, out), which the MatMul node reading it names:
 * {@code /encoder/layer.0/attention/self/query/MatMul} holds {@code encoder.layer.0.attention.self.query.weight}.
 * The file is read with protobuf's generated classes for ONNX's messages; its shape comes from a
 * {@code config.json} beside it (or one folder up, as Optimum lays exports out), else from the
 * caller.
 */
public final class OnnxCheckpoint {

    private static final Pattern MODULE_MATMUL = Pattern.compile("^/?(.+)/MatMul(?:_\\d+)?$");
    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");

    private OnnxCheckpoint() {}

    /** Reads an ONNX file; its heads and LayerNorm eps come from a config.json beside it or one folder up. */
    public static LoadedWeights load(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Path config = Files.isRegularFile(dir.resolve("config.json")) ? dir.resolve("config.json")
                : dir.getParent() != null && Files.isRegularFile(dir.getParent().resolve("config.json")) ? dir.getParent().resolve("config.json")
                : null;
        ModelConfig declared = config == null ? null : HfCheckpoint.readConfig(config);
        if (declared != null && declared.family() != ModelFamily.BERT) {
            throw new CheckpointFormatException(config, "describes a " + declared.family() + " model; splitfed reads ONNX files of BERT encoders only");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return read(file, in, declared == null ? null : new Shape(declared.numHeads(), declared.normEps()));
        } catch (IOException e) {
            if (!Files.exists(file)) {
                throw new CheckpointFormatException(file, "no such file");
            }
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** What the weights cannot tell: the head count and LayerNorm eps. */
    public record Shape(int numHeads, double normEps) {}

    /**
     * Reads an ONNX model from {@code in}; {@code source} names it in errors. {@code shape} may be
     * null only when a config.json would have been found by {@link #load(Path)}.
     */
    public static LoadedWeights read(Path source, InputStream in, Shape shape) {
        if (shape == null) {
            throw new CheckpointFormatException(source, "has no config.json beside it (or one folder up); "
                    + "splitfed needs its num_attention_heads and layer_norm_eps, as the Hugging Face export writes them");
        }
        ModelProto model;
        try {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setSizeLimit(Integer.MAX_VALUE);
            model = ModelProto.parseFrom(coded);
        } catch (InvalidProtocolBufferException e) {
            throw new CheckpointFormatException(source, "is truncated or not an ONNX model (" + e.getMessage()
                    + "); expected a complete ONNX ModelProto, as torch.onnx.export or Optimum writes it", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + source, e);
        }
        if (!model.hasGraph() || model.getGraph().getInitializerCount() == 0) {
            throw new CheckpointFormatException(source, "holds no graph with initializers; expected an ONNX model with its weights inside");
        }
        Map<String, HostTensor> tensors = weights(source, model.getGraph());
        ModelConfig config = configFrom(source, tensors, shape);
        checkComplete(source, config, tensors);
        return new LoadedWeights(source, config, tensors);
    }

    /** Named initializers under BertModel's names, and each MatMul's weight under its module's name as (out, in). */
    private static Map<String, HostTensor> weights(Path source, GraphProto graph) {
        Map<String, TensorProto> initializers = new LinkedHashMap<>();
        for (TensorProto t : graph.getInitializerList()) {
            initializers.put(t.getName(), t);
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        Map<String, String> readBy = new HashMap<>();
        for (NodeProto node : graph.getNodeList()) {
            if (!node.getOpType().equals("MatMul") || node.getInputCount() != 2 || !initializers.containsKey(node.getInput(1))) {
                continue;
            }
            String weightName = node.getInput(1);
            readBy.put(weightName, node.getName());
            Matcher m = MODULE_MATMUL.matcher(node.getName());
            if (!m.matches()) {
                continue; // reported below if nothing else names this weight
            }
            String module = HfCheckpoint.bertName(m.group(1).replace('/', '.'));
            if (module == null) {
                continue;
            }
            HostTensor w = toHost(source, initializers.get(weightName));
            if (w.shape().length != 2) {
                throw new CheckpointFormatException(source, "initializer '" + weightName + "' read by node '" + node.getName()
                        + "' has shape " + Arrays.toString(w.shape()) + "; expected a 2-D (in, out) matrix");
            }
            out.put(module + ".weight", HfCheckpoint.transpose(w, source, weightName));
        }
        for (Map.Entry<String, TensorProto> e : initializers.entrySet()) {
            String name = e.getKey();
            if (readBy.containsKey(name)) {
                continue;
            }
            if (name.startsWith("onnx::") || !name.contains(".")) {
                continue; // constants of the graph (shapes, scales), not weights
            }
            String canonical = HfCheckpoint.bertName(name);
            if (canonical != null) {
                out.put(canonical, toHost(source, e.getValue()));
            }
        }
        // every matrix a MatMul reads must have become a module's weight
        for (Map.Entry<String, String> e : readBy.entrySet()) {
            TensorProto t = initializers.get(e.getKey());
            boolean matrix = t.getDimsCount() == 2;
            Matcher m = MODULE_MATMUL.matcher(e.getValue());
            if (matrix && !m.matches()) {
                throw new CheckpointFormatException(source, "initializer '" + e.getKey() + "' is read by node '" + e.getValue()
                        + "', which is not named after a module; expected MatMul nodes named like /encoder/layer.0/attention/self/query/MatMul "
                        + "(Hugging Face Optimum or transformers.js exports)");
            }
        }
        return out;
    }

    private static ModelConfig configFrom(Path source, Map<String, HostTensor> t, Shape shape) {
        HostTensor words = require(source, t, "embeddings.word_embeddings.weight");
        HostTensor positions = require(source, t, "embeddings.position_embeddings.weight");
        int layers = 0;
        for (String k : t.keySet()) {
            Matcher m = LAYER.matcher(k);
            if (m.find()) {
                layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
            }
        }
        if (layers == 0) {
            throw new CheckpointFormatException(source, "has no encoder.layer.N weights; expected MatMul nodes named /encoder/layer.N/.../MatMul");
        }
        HostTensor inner = require(source, t, "encoder.layer.0.intermediate.dense.weight");
        int hidden = words.shape()[1];
        if (hidden % shape.numHeads() != 0) {
            throw new CheckpointFormatException(source, "hidden size " + hidden + " is not divisible by " + shape.numHeads() + " attention heads");
        }
        return ModelConfig.bert(words.shape()[0], hidden, layers, shape.numHeads(), inner.shape()[0], positions.shape()[0], shape.normEps());
    }

    private static HostTensor require(Path source, Map<String, HostTensor> t, String key) {
        HostTensor v = t.get(key);
        if (v == null) {
            throw new CheckpointFormatException(source, "has no weight '" + key + "'; expected a BERT encoder whose initializers keep their Hugging Face names");
        }
        return v;
    }

    private static void checkComplete(Path source, ModelConfig config, Map<String, HostTensor> tensors) {
        for (Map.Entry<String, int[]> e : WeightNames.expectedShapes(config).entrySet()) {
            HostTensor t = tensors.get(e.getKey());
            if (t == null) {
                String module = e.getKey().substring(0, e.getKey().lastIndexOf('.'));
                throw new CheckpointFormatException(source, "has no weight for '" + e.getKey() + "'; expected "
                        + (e.getKey().endsWith(".weight") && !e.getKey().contains("LayerNorm") && !e.getKey().contains("embeddings")
                                ? "a MatMul node named /" + module.replace('.', '/') + "/MatMul reading it"
                                : "an initializer of that name"));
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new CheckpointFormatException(source, "weight '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + "; the model's other weights imply " + Arrays.toString(e.getValue()) + " (as (out, in))");
            }
        }
        require(source, tensors, "embeddings.token_type_embeddings.weight");
    }

    /** An fp32 initializer's values, from raw_data (little-endian) or float_data. */
    private static HostTensor toHost(Path source, TensorProto t) {
        if (t.getExternalDataCount() > 0) {
            throw new CheckpointFormatException(source, "initializer '" + t.getName()
                    + "' keeps its data in an external file; re-export with the weights inside the .onnx file (under 2 GB)");
        }
        if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
            throw new CheckpointFormatException(source, "initializer '" + t.getName() + "' has ONNX data type "
                    + TensorProto.DataType.forNumber(t.getDataType()) + "; expected FLOAT (fp32) weights");
        }
        int[] shape = new int[t.getDimsCount()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = Math.toIntExact(t.getDims(i));
        }
        int n = Math.toIntExact(HostTensor.numel(shape));
        float[] data = new float[n];
        ByteString raw = t.getRawData();
        if (!raw.isEmpty()) {
            if (raw.size() != 4L * n) {
                throw new CheckpointFormatException(source, "initializer '" + t.getName() + "' holds " + raw.size()
                        + " bytes; shape " + Arrays.toString(shape) + " needs " + 4L * n);
            }
            ByteBuffer buf = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().get(data);
        } else {
            if (t.getFloatDataCount() != n) {
                throw new CheckpointFormatException(source, "initializer '" + t.getName() + "' holds " + t.getFloatDataCount()
                        + " values; shape " + Arrays.toString(shape) + " needs " + n);
            }
            for (int i = 0; i < n; i++) {
                data[i] = t.getFloatData(i);
            }
        }
        return new HostTensor(shape, data);
    }
}
