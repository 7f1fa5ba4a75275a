package io.splitfed.model.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.config.ModelFamily;
import io.splitfed.model.config.RopeScaling;
import io.splitfed.model.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face checkpoint directory: {@code config.json} plus {@code model.safetensors}, or the
 * shards listed in {@code model.safetensors.index.json}. GPT-2's Conv1D weights, stored (in, out),
 * are transposed to (out, in) here; names are normalised to the causal-LM model's module paths
 * ({@code transformer.h.N...} for GPT-2, {@code model.layers.N...} for Llama) and to
 * {@code BertModel}'s for BERT ({@code encoder.layer.N...}).
 */
public final class HfCheckpoint {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HfCheckpoint() {}

    /** Reads and checks {@code config.json}. */
    public static ModelConfig readConfig(Path configFile) {
        JsonNode root;
        try {
            root = JSON.readTree(configFile.toFile());
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new CheckpointFormatException(configFile, "is not valid JSON" + where + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            if (!Files.exists(configFile)) {
                throw new CheckpointFormatException(configFile, "no such file; a Hugging Face checkpoint directory needs config.json");
            }
            throw new UncheckedIOException("cannot read " + configFile, e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointFormatException(configFile, "must hold a JSON object");
        }
        ConfigFields f = new ConfigFields(configFile, root);
        String type = f.text("model_type", null);
        if (type == null) {
            throw new CheckpointFormatException(configFile, "field model_type is missing; expected \"gpt2\", \"llama\" or \"bert\"");
        }
        return switch (type) {
            case "gpt2" -> gpt2(f);
            case "llama" -> llama(f);
            case "bert" -> bert(f);
            default -> throw new CheckpointFormatException(
                    configFile, "field model_type is \"" + type + "\"; splitfed supports \"gpt2\", \"llama\" and \"bert\"");
        };
    }

    private static ModelConfig gpt2(ConfigFields f) {
        int embd = f.positiveInt("n_embd", null);
        int heads = f.positiveInt("n_head", null);
        if (embd % heads != 0) {
            throw f.error("n_head", "n_embd " + embd + " is not divisible by n_head " + heads);
        }
        int inner = f.root().hasNonNull("n_inner") ? f.positiveInt("n_inner", null) : 4 * embd;
        String act = f.text("activation_function", "gelu_new");
        if (!List.of("gelu_new", "gelu", "gelu_pytorch_tanh", "relu", "gelu_fast").contains(act)) {
            throw f.error("activation_function", "\"" + act + "\" is not supported; expected gelu_new, gelu, gelu_pytorch_tanh or relu");
        }
        if (f.root().path("scale_attn_by_inverse_layer_idx").asBoolean(false)) {
            throw f.error("scale_attn_by_inverse_layer_idx", "true is not supported");
        }
        return new ModelConfig(
                ModelFamily.GPT2,
                f.positiveInt("vocab_size", null),
                embd,
                f.positiveInt("n_layer", null),
                heads,
                heads,
                embd / heads,
                inner,
                f.positiveInt("n_positions", 1024),
                f.number("layer_norm_epsilon", 1e-5),
                0,
                null,
                f.root().path("tie_word_embeddings").asBoolean(true),
                act);
    }

    private static ModelConfig bert(ConfigFields f) {
        int hidden = f.positiveInt("hidden_size", null);
        int heads = f.positiveInt("num_attention_heads", null);
        if (hidden % heads != 0) {
            throw f.error("num_attention_heads", "hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
        }
        String act = f.text("hidden_act", "gelu");
        if (!act.equals("gelu")) {
            throw f.error("hidden_act", "\"" + act + "\" is not supported; BERT uses gelu (erf)");
        }
        String positions = f.text("position_embedding_type", "absolute");
        if (!positions.equals("absolute")) {
            throw f.error("position_embedding_type", "\"" + positions + "\" is not supported; expected absolute");
        }
        return ModelConfig.bert(
                f.positiveInt("vocab_size", null),
                hidden,
                f.positiveInt("num_hidden_layers", null),
                heads,
                f.positiveInt("intermediate_size", null),
                f.positiveInt("max_position_embeddings", 512),
                f.number("layer_norm_eps", 1e-12));
    }

    private static ModelConfig llama(ConfigFields f) {
        int hidden = f.positiveInt("hidden_size", null);
        int heads = f.positiveInt("num_attention_heads", null);
        int kvHeads = f.positiveInt("num_key_value_heads", heads);
        if (heads % kvHeads != 0) {
            throw f.error("num_key_value_heads", kvHeads + " does not divide num_attention_heads " + heads);
        }
        int headDim = f.positiveInt("head_dim", hidden / heads);
        String act = f.text("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw f.error("hidden_act", "\"" + act + "\" is not supported; Llama uses silu");
        }
        if (f.root().path("attention_bias").asBoolean(false) || f.root().path("mlp_bias").asBoolean(false)) {
            throw f.error("attention_bias", "biases in Llama projections are not supported");
        }
        RopeScaling scaling = null;
        JsonNode rs = f.root().get("rope_scaling");
        if (rs != null && !rs.isNull()) {
            String ropeType = rs.path("rope_type").asText(rs.path("type").asText(""));
            if (!ropeType.equals("llama3")) {
                throw f.error("rope_scaling", "rope_type \"" + ropeType + "\" is not supported; expected llama3 or no rope_scaling");
            }
            scaling = new RopeScaling(
                    rs.path("factor").asDouble(8),
                    rs.path("low_freq_factor").asDouble(1),
                    rs.path("high_freq_factor").asDouble(4),
                    rs.path("original_max_position_embeddings").asInt(8192));
        }
        return new ModelConfig(
                ModelFamily.LLAMA,
                f.positiveInt("vocab_size", null),
                hidden,
                f.positiveInt("num_hidden_layers", null),
                heads,
                kvHeads,
                headDim,
                f.positiveInt("intermediate_size", null),
                f.positiveInt("max_position_embeddings", 2048),
                f.number("rms_norm_eps", 1e-6),
                f.number("rope_theta", 10000),
                scaling,
                f.root().path("tie_word_embeddings").asBoolean(false),
                act);
    }

    /** Reads a checkpoint directory (or a .safetensors file with config.json beside it). */
    public static LoadedWeights load(Path path) {
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        ModelConfig config = readConfig(dir.resolve("config.json"));
        List<Path> files = weightFiles(path, dir);
        Map<String, HostTensor> raw = new LinkedHashMap<>();
        Map<String, Path> origin = new LinkedHashMap<>();
        for (Path file : files) {
            SafetensorsFile st = SafetensorsFile.open(file);
            for (String name : st.names()) {
                String canonical = canonicalName(config.family(), name);
                if (canonical == null) {
                    continue; // buffers such as attn.bias / rotary inv_freq are recomputed, not loaded
                }
                raw.put(canonical, st.read(name));
                origin.put(canonical, file);
            }
        }
        Map<String, HostTensor> tensors = config.family() == ModelFamily.GPT2
                ? gpt2Layout(config, raw, origin)
                : raw;
        checkComplete(config, tensors, files);
        return new LoadedWeights(dir, config, tensors);
    }

    private static List<Path> weightFiles(Path path, Path dir) {
        if (Files.isRegularFile(path) && path.toString().endsWith(".safetensors")) {
            return List.of(path);
        }
        Path single = dir.resolve("model.safetensors");
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(index)) {
            try {
                JsonNode map = JSON.readTree(index.toFile()).get("weight_map");
                if (map == null || !map.isObject()) {
                    throw new CheckpointFormatException(index, "field weight_map is missing");
                }
                Set<Path> shards = new LinkedHashSet<>();
                map.fields().forEachRemaining(e -> shards.add(dir.resolve(e.getValue().asText())));
                return new ArrayList<>(shards);
            } catch (JsonProcessingException e) {
                throw new CheckpointFormatException(index, "is not valid JSON: " + e.getOriginalMessage(), e);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + index, e);
            }
        }
        if (Files.isRegularFile(dir.resolve("pytorch_model.bin"))) {
            throw new CheckpointFormatException(
                    dir, "holds pytorch_model.bin only; convert it to model.safetensors (safetensors' convert script, or save_pretrained(safe_serialization=True))");
        }
        throw new CheckpointFormatException(dir, "has no model.safetensors or model.safetensors.index.json");
    }

    /**
     * Writes {@code config.json} and {@code model.safetensors} in Hugging Face's layout (GPT-2's
     * Conv1D weights transposed back to (in, out)), e.g. after merging an adapter.
     */
    public static void write(Path dir, ModelConfig config, Map<String, HostTensor> weights) {
        com.fasterxml.jackson.databind.node.ObjectNode c = JSON.createObjectNode();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        if (config.family() == ModelFamily.GPT2) {
            c.put("model_type", "gpt2");
            c.putArray("architectures").add("GPT2LMHeadModel");
            c.put("vocab_size", config.vocabSize());
            c.put("n_embd", config.hiddenSize());
            c.put("n_layer", config.numLayers());
            c.put("n_head", config.numHeads());
            c.put("n_inner", config.intermediateSize());
            c.put("n_positions", config.maxPositions());
            c.put("n_ctx", config.maxPositions());
            c.put("layer_norm_epsilon", config.normEps());
            c.put("activation_function", config.activation());
            c.put("tie_word_embeddings", config.tiedEmbeddings());
            weights.forEach((name, t) -> {
                boolean conv1d = name.endsWith(".weight") && (name.contains(".attn.c_attn.") || name.contains(".attn.c_proj.")
                        || name.contains(".mlp.c_fc.") || name.contains(".mlp.c_proj."));
                out.put(name, conv1d ? transpose(t, dir, name) : t);
            });
        } else if (config.family() == ModelFamily.BERT) {
            c.put("model_type", "bert");
            c.putArray("architectures").add("BertModel");
            c.put("vocab_size", config.vocabSize());
            c.put("hidden_size", config.hiddenSize());
            c.put("num_hidden_layers", config.numLayers());
            c.put("num_attention_heads", config.numHeads());
            c.put("intermediate_size", config.intermediateSize());
            c.put("max_position_embeddings", config.maxPositions());
            c.put("type_vocab_size", weights.get("embeddings.token_type_embeddings.weight").shape()[0]);
            c.put("layer_norm_eps", config.normEps());
            c.put("hidden_act", "gelu");
            out.putAll(weights);
        } else {
            c.put("model_type", "llama");
            c.putArray("architectures").add("LlamaForCausalLM");
            c.put("vocab_size", config.vocabSize());
            c.put("hidden_size", config.hiddenSize());
            c.put("intermediate_size", config.intermediateSize());
            c.put("num_hidden_layers", config.numLayers());
            c.put("num_attention_heads", config.numHeads());
            c.put("num_key_value_heads", config.numKvHeads());
            c.put("head_dim", config.headDim());
            c.put("max_position_embeddings", config.maxPositions());
            c.put("rms_norm_eps", config.normEps());
            c.put("rope_theta", config.ropeTheta());
            c.put("hidden_act", config.activation());
            c.put("tie_word_embeddings", config.tiedEmbeddings());
            if (config.ropeScaling() != null) {
                com.fasterxml.jackson.databind.node.ObjectNode rs = c.putObject("rope_scaling");
                rs.put("rope_type", "llama3");
                rs.put("factor", config.ropeScaling().factor());
                rs.put("low_freq_factor", config.ropeScaling().lowFreqFactor());
                rs.put("high_freq_factor", config.ropeScaling().highFreqFactor());
                rs.put("original_max_position_embeddings", config.ropeScaling().originalMaxPositions());
            }
            out.putAll(weights);
        }
        c.put("torch_dtype", "float32");
        SafetensorsFile.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        try {
            AtomicFiles.writeString(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Maps a checkpoint key to the causal-LM module path, or null for buffers that are not weights. */
    static String canonicalName(ModelFamily family, String name) {
        if (family == ModelFamily.BERT) {
            return bertName(name);
        }
        if (family == ModelFamily.GPT2) {
            if (name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias")) {
                return null;
            }
            if (name.equals("lm_head.weight")) {
                return name;
            }
            return name.startsWith("transformer.") ? name : "transformer." + name;
        }
        if (name.endsWith("rotary_emb.inv_freq")) {
            return null;
        }
        if (name.equals("lm_head.weight") || name.startsWith("model.")) {
            return name;
        }
        return "model." + name;
    }

    /**
     * A BERT checkpoint's key as {@code BertModel} names it: without the {@code bert.} of task
     * models, with TF-era {@code gamma}/{@code beta} as weight/bias; null for the position-id
     * buffer and task heads (MLM's {@code cls.}, a fine-tuned {@code classifier.}), which are not
     * part of the encoder.
     */
    static String bertName(String name) {
        String n = name.startsWith("bert.") ? name.substring("bert.".length()) : name;
        if (n.startsWith("cls.") || n.startsWith("classifier.") || n.endsWith("position_ids")) {
            return null;
        }
        if (n.endsWith("LayerNorm.gamma")) {
            n = n.substring(0, n.length() - "gamma".length()) + "weight";
        } else if (n.endsWith("LayerNorm.beta")) {
            n = n.substring(0, n.length() - "beta".length()) + "bias";
        }
        return n;
    }

    /** GPT-2's Conv1D stores (in, out); splitfed keeps every linear weight as (out, in). */
    private static Map<String, HostTensor> gpt2Layout(ModelConfig config, Map<String, HostTensor> raw, Map<String, Path> origin) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : raw.entrySet()) {
            String name = e.getKey();
            HostTensor t = e.getValue();
            boolean conv1d = name.endsWith(".weight") && (name.contains(".attn.c_attn.") || name.contains(".attn.c_proj.")
                    || name.contains(".mlp.c_fc.") || name.contains(".mlp.c_proj."));
            out.put(name, conv1d ? transpose(t, origin.get(name), name) : t);
        }
        return out;
    }

    static HostTensor transpose(HostTensor t, Path file, String name) {
        if (t.shape().length != 2) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' should be 2-D, has shape " + java.util.Arrays.toString(t.shape()));
        }
        int r = t.shape()[0];
        int c = t.shape()[1];
        float[] src = t.data();
        float[] dst = new float[src.length];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                dst[j * r + i] = src[i * c + j];
            }
        }
        return new HostTensor(new int[] {c, r}, dst);
    }

    /** Every weight the architecture needs must be there, with the shape the config implies. */
    private static void checkComplete(ModelConfig config, Map<String, HostTensor> tensors, List<Path> files) {
        Map<String, int[]> expected = WeightNames.expectedShapes(config);
        Path where = files.size() == 1 ? files.get(0) : files.get(0).getParent();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            HostTensor t = tensors.get(e.getKey());
            if (t == null) {
                throw new CheckpointFormatException(where, "has no tensor '" + e.getKey() + "', which config.json implies");
            }
            if (!java.util.Arrays.equals(t.shape(), e.getValue())) {
                throw new CheckpointFormatException(
                        where, "tensor '" + e.getKey() + "' has shape " + java.util.Arrays.toString(t.shape())
                                + " but config.json implies " + java.util.Arrays.toString(e.getValue()) + " (as (out, in))");
            }
        }
    }

    /** Typed access to config.json fields with errors that name the field. */
    private record ConfigFields(Path file, JsonNode root) {

        CheckpointFormatException error(String field, String message) {
            return new CheckpointFormatException(file, "field " + field + ": " + message);
        }

        String text(String field, String fallback) {
            JsonNode n = root.get(field);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isTextual()) {
                throw error(field, "expected a string, found " + n);
            }
            return n.asText();
        }

        int positiveInt(String field, Integer fallback) {
            JsonNode n = root.get(field);
            if (n == null || n.isNull()) {
                if (fallback == null) {
                    throw error(field, "is missing");
                }
                return fallback;
            }
            if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0) {
                throw error(field, "expected a positive integer, found " + n);
            }
            return n.asInt();
        }

        double number(String field, double fallback) {
            JsonNode n = root.get(field);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isNumber()) {
                throw error(field, "expected a number, found " + n);
            }
            return n.asDouble();
        }
    }
}
