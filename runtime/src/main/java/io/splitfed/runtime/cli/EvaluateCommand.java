package io.splitfed.runtime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import io.splitfed.actors.job.JobConfig;
import io.splitfed.model.data.DataSets;
import io.splitfed.model.data.Dataset;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.ClassificationHead;
import io.splitfed.model.io.AtomicFiles;
import io.splitfed.model.io.BuiltinModels;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.lora.AdapterFit;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.PeftAdapterFormat;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tokenizer.SequenceEncoder;
import io.splitfed.model.tokenizer.Tokenizers;
import io.splitfed.model.train.Evaluation;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** Scores a saved PEFT adapter on a labelled file, as a user checks a model on their own dev set. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Score a trained adapter (PEFT layout) on a GLUE .tsv, MNLI .json or .jsonl file: accuracy, F1, confusion matrix.")
public final class EvaluateCommand implements Callable<Integer> {

    @Option(names = "--adapter", required = true, description = "The adapter directory (adapter_config.json + adapter_model.safetensors)")
    Path adapter;

    @Option(names = "--data", required = true, description = "Labelled data: GLUE .tsv, MNLI .json, or .jsonl")
    Path data;

    @Option(names = "--model", description = "Base model (default: the one the adapter names, else the job's default, builtin:all-minilm-l6-v2)")
    Path model;

    @Option(names = "--tokenizer", description = "Tokenizer for --model (default: the model's own)")
    Path tokenizer;

    @Option(names = "--max-length", description = "Tokens per sequence (default: what the adapter was trained with)")
    Integer maxLength;

    @Option(names = "--metrics-out", description = "Write the scores as JSON (keys accuracy, f1, confusion_matrix, ...)")
    Path metricsOut;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(adapter.resolve(PeftAdapterFormat.CONFIG_FILE))) {
            throw new UserError(adapter + ": not an adapter directory; expected " + PeftAdapterFormat.CONFIG_FILE + " and " + PeftAdapterFormat.WEIGHTS_FILE
                    + " (what splitfed train writes under --out DIR/adapter)");
        }
        LoraAdapter lora = PeftAdapterFormat.load(adapter);
        Map<String, String> job = PeftAdapterFormat.jobMetadata(adapter);
        Config defaults = JobConfig.load(ConfigFactory.empty()).getConfig("splitfed.job");
        Path base = model != null ? model : defaultModel(defaults);
        LoadedWeights weights = CheckpointLoader.load(base);
        int length = maxLength != null ? maxLength
                : job.containsKey("max_length") ? Integer.parseInt(job.get("max_length")) : defaults.getInt("data.max-length");
        String separator = job.getOrDefault("pair_separator", defaults.getString("data.pair-separator"));

        Dataset set = DataSets.read(data);
        if (!set.isClassification()) {
            throw new UserError(data + ": holds no class labels; evaluate scores classification adapters (GSM8K is scored by splitfed experiment)");
        }
        if (job.containsKey("labels")) {
            List<String> trained = List.of(job.get("labels").split("\t"));
            if (!trained.equals(set.labelNames())) {
                throw new UserError(data + ": labels " + set.labelNames() + " differ from the " + trained + " the adapter was trained on");
            }
        }
        ClassificationHead head = new ClassificationHead(set.numLabels());
        String weightKey = ClassificationHead.weightKey(weights.config().family());
        if (lora.get(weightKey) == null || lora.get(weightKey).shape()[0] != set.numLabels()) {
            throw new UserError(adapter + ": has no " + weightKey + " for " + set.numLabels() + " classes; was it trained on "
                    + weights.config().family() + " for this task?");
        }
        SequenceEncoder encoder = new SequenceEncoder(Tokenizers.load(tokenizer, base, weights.config()), length, separator);
        List<SequenceEncoder.Encoded> rows = new ArrayList<>();
        for (int i = 0; i < set.size(); i++) {
            rows.add(encoder.encode(i, set.examples().get(i)));
        }
        List<TokenBatch> batches = SequenceEncoder.byLength(rows, Evaluation.BATCH, encoder::batch);
        Evaluation.Result r = TensorExecutor.shared().call(() -> {
            try (TransformerModel m = TransformerModel.create(weights)) {
                AdapterFit.check(adapter, lora, m.loraModules(0, m.numLayers(), AdapterFit.allTargets()), head.trainableTensors(weights.config()),
                        weights.config(), base.toString());
                return Evaluation.run(m, head, lora, batches);
            }
        });

        System.out.printf(Locale.ROOT, "%s on %s (%d examples, model %s)%n", adapter, data, r.samples(), base);
        System.out.printf(Locale.ROOT, "accuracy %.4f", r.accuracy());
        if (set.numLabels() == 2) {
            System.out.printf(Locale.ROOT, "  |  F1 %.4f (class %s positive)", r.binaryF1(), set.labelNames().get(1));
        }
        System.out.printf(Locale.ROOT, "  |  loss %.4f%n", r.loss());
        System.out.println("confusion matrix (rows: true label, columns: predicted):");
        System.out.print(String.format(Locale.ROOT, "%12s", ""));
        for (String name : set.labelNames()) {
            System.out.printf(Locale.ROOT, "%12s", name);
        }
        System.out.println();
        for (int t = 0; t < set.numLabels(); t++) {
            System.out.printf(Locale.ROOT, "%12s", set.labelNames().get(t));
            for (int p = 0; p < set.numLabels(); p++) {
                System.out.printf(Locale.ROOT, "%12d", r.confusion()[t][p]);
            }
            System.out.println();
        }
        if (metricsOut != null) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("adapter", adapter.toString());
            json.put("data", data.toString());
            json.put("model", base.toString());
            json.put("samples", r.samples());
            json.put("accuracy", r.accuracy());
            if (set.numLabels() == 2) {
                json.put("f1", r.binaryF1());
            }
            json.put("loss", r.loss());
            json.put("labels", set.labelNames());
            json.put("confusion_matrix", r.confusion());
            AtomicFiles.writeString(metricsOut, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
            System.out.println("metrics " + metricsOut);
        }
        return 0;
    }

    /** The model the adapter names when it can be found here, else the job's default. */
    private Path defaultModel(Config defaults) {
        String named = PeftAdapterFormat.baseModel(adapter);
        if (named != null && (named.startsWith(BuiltinModels.PREFIX) || Files.exists(Path.of(named)))) {
            return Path.of(named);
        }
        return Path.of(defaults.getString("model.path"));
    }
}
