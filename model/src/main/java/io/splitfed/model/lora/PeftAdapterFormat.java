package io.splitfed.model.lora;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.splitfed.model.config.ModelFamily;
import io.splitfed.model.io.AtomicFiles;
import io.splitfed.model.io.CheckpointFormatException;
import io.splitfed.model.io.SafetensorsFile;
import io.splitfed.model.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hugging Face PEFT's on-disk layout for LoRA: {@code adapter_config.json} and
 * {@code adapter_model.safetensors} whose keys are
 * {@code base_model.model.<module path>.lora_A.weight} (rank x in) and {@code .lora_B.weight}
 * (out x rank), with fully trained modules such as the classification {@code score} saved as
 * {@code base_model.model.score.weight}. For BERT the module paths are those of
 * {@code BertForSequenceClassification}: {@code base_model.model.bert.encoder.layer.N...}, and the
 * head {@code base_model.model.classifier.weight} and {@code .bias} ({@code modules_to_save:
 * ["classifier"]}). {@code PeftModel.from_pretrained(base, dir)} loads it.
 */
public final class PeftAdapterFormat {

    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    private static final String PREFIX = "base_model.model.";
    /** {@code BertForSequenceClassification} keeps the encoder under {@code bert.}, the classifier beside it. */
    private static final String BERT_PREFIX = "bert.";
    private static final String FROZEN_METADATA = "splitfed.frozen";
    private static final String JOB_METADATA = "splitfed.job.";
    private static final String FAMILY_METADATA = "splitfed.family";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PeftAdapterFormat() {}

    /**
     * What PEFT needs to know beyond the tensors, and what splitfed needs to score the adapter
     * again ({@code job}: the training job's max length, pair separator and label names), which
     * rides in the safetensors metadata under {@code splitfed.}.
     */
    public record Metadata(String baseModel, ModelFamily family, String taskType, Map<String, String> job) {

        public Metadata(String baseModel, ModelFamily family, String taskType) {
            this(baseModel, family, taskType, Map.of());
        }
    }

    /** Writes both files atomically; weights first, so a config never points at missing weights. */
    public static void save(Path dir, LoraAdapter adapter, Metadata meta) {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        adapter.tensors().forEach((k, v) -> tensors.put(PREFIX + peftPath(k, meta.family()), v));
        // PEFT rejects unknown config fields, so splitfed's own (which tensors stay frozen) rides in
        // the safetensors metadata, which PEFT ignores
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        if (!adapter.frozen().isEmpty()) {
            metadata.put(FROZEN_METADATA, String.join(",", adapter.frozen()));
        }
        meta.job().forEach((k, v) -> metadata.put(JOB_METADATA + k, v));
        metadata.put(FAMILY_METADATA, meta.family().name().toLowerCase(java.util.Locale.ROOT));
        SafetensorsFile.write(dir.resolve(WEIGHTS_FILE), tensors, metadata);

        ObjectNode c = JSON.createObjectNode();
        LoraConfig cfg = adapter.config();
        c.put("peft_type", "LORA");
        c.put("task_type", meta.taskType());
        c.put("base_model_name_or_path", meta.baseModel());
        c.put("r", cfg.rank());
        c.put("lora_alpha", cfg.alpha());
        c.put("lora_dropout", cfg.dropout());
        c.put("bias", "none");
        c.put("fan_in_fan_out", meta.family() == ModelFamily.GPT2);
        c.put("inference_mode", true);
        c.put("init_lora_weights", true);
        c.put("use_rslora", false);
        c.put("use_dora", false);
        c.putNull("layers_to_transform");
        c.putNull("layers_pattern");
        ArrayNode targets = c.putArray("target_modules");
        adapter.modulePaths().forEach(p -> targets.add(peftPath(p, meta.family())));
        List<String> full = adapter.fullKeys();
        if (full.isEmpty()) {
            c.putNull("modules_to_save");
        } else {
            ArrayNode m = c.putArray("modules_to_save");
            full.stream().map(k -> k.substring(0, k.lastIndexOf('.'))).distinct().forEach(m::add);
        }
        ObjectNode ranks = c.putObject("rank_pattern");
        for (String path : adapter.modulePaths()) {
            int r = adapter.get(path + ".lora_A.weight").shape()[0];
            if (r != cfg.rank()) {
                ranks.put(path, r);
            }
        }
        c.putObject("alpha_pattern");
        try {
            AtomicFiles.writeString(dir.resolve(CONFIG_FILE), JSON.writeValueAsString(c));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads an adapter saved by splitfed or by PEFT. */
    public static LoraAdapter load(Path dir) {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        JsonNode c;
        try {
            c = JSON.readTree(configFile.toFile());
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(configFile, "is not valid JSON at line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            if (!Files.exists(configFile)) {
                throw new CheckpointFormatException(configFile, "no such file; a PEFT adapter directory needs adapter_config.json");
            }
            throw new UncheckedIOException(e);
        }
        if (!"LORA".equals(c.path("peft_type").asText("LORA"))) {
            throw new CheckpointFormatException(configFile, "field peft_type is \"" + c.path("peft_type").asText() + "\"; only LORA adapters are supported");
        }
        if (c.path("use_dora").asBoolean(false) || c.path("use_rslora").asBoolean(false)) {
            throw new CheckpointFormatException(configFile, "fields use_dora / use_rslora: DoRA and rank-stabilised scaling are not supported");
        }
        if (c.has("alpha_pattern") && c.get("alpha_pattern").size() > 0) {
            throw new CheckpointFormatException(configFile, "field alpha_pattern: per-module alpha is not supported");
        }
        if (!c.path("r").canConvertToInt() || c.path("r").asInt() <= 0) {
            throw new CheckpointFormatException(configFile, "field r must be a positive integer, found " + c.get("r"));
        }
        int rank = c.get("r").asInt();
        double alpha = c.path("lora_alpha").asDouble(rank);
        double dropout = c.path("lora_dropout").asDouble(0);

        SafetensorsFile st = SafetensorsFile.open(weightsFile);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        for (String key : st.names()) {
            String k = key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : key;
            k = k.startsWith(BERT_PREFIX) ? k.substring(BERT_PREFIX.length()) : k;
            k = k.replace(".lora_A.default.weight", ".lora_A.weight").replace(".lora_B.default.weight", ".lora_B.weight")
                    .replace(".modules_to_save.default.", ".");
            HostTensor t = st.read(key);
            float[] v = t.data();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new CheckpointFormatException(weightsFile, "tensor '" + key + "' holds " + v[i] + " at element " + i
                            + "; an adapter's weights must all be finite (is the file damaged, or did its training diverge?)");
                }
            }
            tensors.put(k, t);
        }
        Set<String> frozen = new LinkedHashSet<>();
        String frozenList = st.metadata().get(FROZEN_METADATA);
        if (frozenList != null && !frozenList.isEmpty()) {
            frozen.addAll(List.of(frozenList.split(",")));
        }
        Set<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
        for (String k : new TreeSet<>(tensors.keySet())) {
            if (k.endsWith(".lora_A.weight")) {
                String path = k.substring(0, k.length() - ".lora_A.weight".length());
                if (!tensors.containsKey(path + ".lora_B.weight")) {
                    throw new CheckpointFormatException(weightsFile, "tensor '" + PREFIX + k + "' has no matching lora_B");
                }
                HostTensor a = tensors.get(k);
                HostTensor b = tensors.get(path + ".lora_B.weight");
                if (a.shape().length != 2 || b.shape().length != 2 || a.shape()[0] != b.shape()[1]) {
                    throw new CheckpointFormatException(
                            weightsFile, "tensors of '" + path + "' have shapes " + java.util.Arrays.toString(a.shape()) + " and "
                                    + java.util.Arrays.toString(b.shape()) + "; expected A (r, in) and B (out, r)");
                }
                targets.add(targetOf(path));
            }
        }
        if (targets.isEmpty()) {
            throw new CheckpointFormatException(weightsFile, "holds no lora_A / lora_B tensors");
        }
        return new LoraAdapter(new LoraConfig(rank, alpha, dropout, targets), tensors, frozen);
    }

    /** A module path or key of splitfed's as the task model names it (BERT's encoder sits under bert.). */
    static String peftPath(String path, ModelFamily family) {
        return family == ModelFamily.BERT && !path.startsWith("classifier.") ? BERT_PREFIX + path : path;
    }

    /** The training job's settings saved with an adapter (empty for adapters not saved by splitfed). */
    public static Map<String, String> jobMetadata(Path dir) {
        Map<String, String> out = new LinkedHashMap<>();
        SafetensorsFile.open(dir.resolve(WEIGHTS_FILE)).metadata().forEach((k, v) -> {
            if (k.startsWith(JOB_METADATA)) {
                out.put(k.substring(JOB_METADATA.length()), v);
            }
        });
        return out;
    }

    /** The model family ({@code gpt2}, {@code llama}, {@code bert}) a splitfed adapter was trained on, or null when it does not say. */
    public static String family(Path dir) {
        return SafetensorsFile.open(dir.resolve(WEIGHTS_FILE)).metadata().get(FAMILY_METADATA);
    }

    /** The base model named in adapter_config.json, or null. */
    public static String baseModel(Path dir) {
        try {
            JsonNode c = JSON.readTree(dir.resolve(CONFIG_FILE).toFile());
            return c.hasNonNull("base_model_name_or_path") ? c.get("base_model_name_or_path").asText() : null;
        } catch (IOException e) {
            return null;
        }
    }

    static LoraTarget targetOf(String modulePath) {
        String leaf = modulePath.substring(modulePath.lastIndexOf('.') + 1);
        return switch (leaf) {
            case "c_attn", "q_proj", "query" -> LoraTarget.Q;
            case "k_proj", "key" -> LoraTarget.K;
            case "v_proj", "value" -> LoraTarget.V;
            case "o_proj" -> LoraTarget.O;
            case "dense" -> modulePath.endsWith("attention.output.dense") ? LoraTarget.O : LoraTarget.MLP;
            case "c_proj" -> modulePath.contains(".attn.") ? LoraTarget.O : LoraTarget.MLP;
            default -> LoraTarget.MLP;
        };
    }
}
