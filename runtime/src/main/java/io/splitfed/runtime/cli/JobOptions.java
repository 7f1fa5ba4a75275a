package io.splitfed.runtime.cli;

import io.splitfed.actors.job.KnownSettings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueFactory;

import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Job flags shared by the commands that train. Each flag is an override of a
 * {@code splitfed.job} setting; anything without a flag can be set with {@code --set key=value}
 * or a {@code --config} file.
 */
public final class JobOptions {

    @Option(names = "--mode", description = "splitfrozen | sfl | fedlora | centralized (default: ${bundle:splitfed.job.mode})")
    String mode;

    @Option(names = "--model", description = "Base model: builtin:all-minilm-l6-v2, a Hugging Face directory (GPT-2, Llama, BERT), a BERT .onnx export, or llama2.c .bin (default: ${bundle:splitfed.job.model.path})")
    Path model;

    @Option(names = "--tokenizer", description = "Tokenizer for --model (default: beside the model)")
    Path tokenizer;

    @Option(names = "--train", description = "Training data: GLUE .tsv, MNLI .json, GSM8K or generic .jsonl (default: SST-2)")
    Path train;

    @Option(names = "--eval", description = "Evaluation data in the same format (default: a stratified split of --train; whole sentences for SST-2)")
    Path eval;

    @Option(names = "--devices", description = "Simulated devices (default: ${bundle:splitfed.job.federation.devices})")
    Integer devices;

    @Option(names = "--partition", description = "iid | dirichlet:ALPHA | classes:C | quantity:ALPHA (default: ${bundle:splitfed.job.federation.partition})")
    String partition;

    @Option(names = "--split-points", description = "Split point for all devices, or one per device: 1 or 1,1,2,2 (default: ${bundle:splitfed.job.federation.split-points})")
    String splitPoints;

    @Option(names = "--rounds", description = "Federated rounds (default: ${bundle:splitfed.job.federation.rounds})")
    Integer rounds;

    @Option(names = "--epochs", description = "Passes over each device's shard over all rounds, or auto: about ${bundle:splitfed.job.federation.auto-epoch-tokens} tokens in all (default: ${bundle:splitfed.job.federation.epochs})")
    String epochs;

    @Option(names = "--micro-batch", description = "Samples per micro-batch (default: ${bundle:splitfed.job.training.micro-batch})")
    Integer microBatch;

    @Option(names = "--window", description = "Micro-batches a device keeps in flight (default: ${bundle:splitfed.job.pipeline.window})")
    Integer window;

    @Option(names = "--lr", description = "Peak learning rate (default: ${bundle:splitfed.job.training.learning-rate})")
    Double lr;

    @Option(names = "--rank", description = "LoRA rank (default: ${bundle:splitfed.job.training.lora.rank})")
    Integer rank;

    @Option(names = "--alpha", description = "LoRA alpha (default: ${bundle:splitfed.job.training.lora.alpha})")
    Double alpha;

    @Option(names = "--targets", description = "LoRA targets: q,k,v,o,mlp or all (default: ${bundle:splitfed.job.training.lora.targets})")
    String targets;

    @Option(names = "--train-limit", description = "Training examples used, stratified; 0 = all (default: ${bundle:splitfed.job.data.train-limit})")
    Integer trainLimit;

    @Option(names = "--eval-limit", description = "Evaluation examples used, stratified; 0 = all (default: ${bundle:splitfed.job.data.eval-limit})")
    Integer evalLimit;

    @Option(names = "--max-length", description = "Tokens per text after truncation (default: ${bundle:splitfed.job.data.max-length}; pairs: splitfed.job.data.pair-max-length, ${bundle:splitfed.job.data.pair-max-length})")
    Integer maxLength;

    @Option(names = "--aggregation", description = "fedavg | ffa | median | trimmed-mean:F (default: ${bundle:splitfed.job.federation.aggregation})")
    String aggregation;

    @Option(names = "--no-activation-cache", description = "SplitFrozen: recompute device activations every epoch")
    boolean noCache;

    @Option(names = "--seed", description = "Seed for data, partitions and initialisation (default: ${bundle:splitfed.job.seed})")
    Long seed;

    @Option(names = "--checkpoint-dir", description = "Write a checkpoint into this directory after every round")
    Path checkpointDir;

    @Option(names = "--resume", description = "Go on from the newest checkpoint in this directory (and keep checkpointing there)")
    Path resume;

    @Option(names = "--planner", description = "static | sflllm | sflam: how each round's split points, bits and link rates are chosen (default: ${bundle:splitfed.job.planning.policy})")
    String planner;

    @Option(names = "--privacy", description = "The defence on the cut: none, or recommended (each token's vector clipped to norm "
            + RECOMMENDED_CLIP + ", then Gaussian noise of " + RECOMMENDED_SIGMA + " x the clip; docs/privacy.md says what each lets a server read)")
    String privacy;

    @Option(names = "--u-shape", description = "The U-shaped split (splitfrozen, sfl): the device keeps the head, the loss and its last blocks, "
            + "so no label is sent; the gradients sent back leak them unless noised (privacy.u-shape; docs/privacy.md)")
    boolean uShape;

    @Option(names = "--label-noise", description = "With --u-shape: each example's returned gradient scaled by 1 + TAU z, z normal, unbiased "
            + "(default: ${bundle:splitfed.job.privacy.u-shape.label-noise})")
    Double labelNoise;

    @Option(names = "--norm-floor", description = "With --u-shape: an added draw along each example's returned gradient, F times its "
            + "micro-batch's mean norm, so that small gradients' norms and signs say nothing (default: ${bundle:splitfed.job.privacy.u-shape.norm-floor})")
    Double normFloor;

    @Option(names = "--tail-blocks", description = "With --u-shape: blocks the device keeps after the server's "
            + "(default: ${bundle:splitfed.job.privacy.u-shape.tail-blocks})")
    Integer tailBlocks;

    /** --privacy recommended: the most accurate setting `splitfed experiment privacy` found holding the attack to 20% at the default cut. */
    static final double RECOMMENDED_CLIP = 12;
    static final double RECOMMENDED_SIGMA = 0.4;

    @Option(names = "--config", description = "A HOCON file of overrides (same keys as reference.conf)")
    Path configFile;

    @Option(names = "--set", description = "Override any setting: --set splitfed.job.pipeline.uplink-bits=8")
    List<String> sets;

    /** The flags as {@code splitfed.job} overrides. */
    Map<String, Object> overrides() {
        Map<String, Object> o = new LinkedHashMap<>();
        put(o, "mode", mode);
        put(o, "model.path", model == null ? null : model.toString());
        if (model != null && tokenizer == null) {
            put(o, "model.tokenizer", "");
        }
        put(o, "model.tokenizer", tokenizer == null ? null : tokenizer.toString());
        put(o, "data.train", train == null ? null : train.toString());
        put(o, "data.eval", eval == null ? null : eval.toString());
        put(o, "federation.devices", devices);
        put(o, "federation.partition", partition);
        put(o, "federation.split-points", splitPoints);
        put(o, "federation.rounds", rounds);
        put(o, "federation.epochs", epochs);
        put(o, "federation.aggregation", aggregation);
        put(o, "training.micro-batch", microBatch);
        put(o, "pipeline.window", window);
        put(o, "training.learning-rate", lr);
        put(o, "training.lora.rank", rank);
        put(o, "training.lora.alpha", alpha);
        put(o, "training.lora.targets", targets);
        put(o, "data.train-limit", trainLimit);
        put(o, "data.eval-limit", evalLimit);
        put(o, "data.max-length", maxLength);
        put(o, "seed", seed);
        put(o, "planning.policy", planner);
        if (resume != null) {
            if (!java.nio.file.Files.isRegularFile(resume.resolve("LATEST"))) {
                throw new UserError("--resume " + resume + ": no checkpoint there (expected a LATEST file written by --checkpoint-dir)");
            }
            put(o, "checkpoint.dir", resume.toString());
            put(o, "checkpoint.resume", true);
        } else {
            put(o, "checkpoint.dir", checkpointDir == null ? null : checkpointDir.toString());
        }
        if (privacy != null) {
            switch (privacy) {
                case "none" -> {
                    put(o, "privacy.clip", 0.0);
                    put(o, "privacy.noise-sigma", 0.0);
                }
                case "recommended" -> {
                    put(o, "privacy.clip", RECOMMENDED_CLIP);
                    put(o, "privacy.noise-sigma", RECOMMENDED_SIGMA);
                }
                default -> throw new UserError("--privacy " + privacy + ": expected none or recommended");
            }
        }
        if (uShape) {
            put(o, "privacy.u-shape.enabled", true);
        } else if (labelNoise != null || normFloor != null || tailBlocks != null) {
            throw new UserError((labelNoise != null ? "--label-noise" : normFloor != null ? "--norm-floor" : "--tail-blocks")
                    + " sets the U-shaped split; add --u-shape");
        }
        put(o, "privacy.u-shape.label-noise", labelNoise);
        put(o, "privacy.u-shape.norm-floor", normFloor);
        put(o, "privacy.u-shape.tail-blocks", tailBlocks);
        if (noCache) {
            o.put("splitfed.job.pipeline.activation-cache", false);
        }
        return o;
    }

    private static void put(Map<String, Object> o, String key, Object value) {
        if (value != null) {
            o.put("splitfed.job." + key, value);
        }
    }

    /** reference.conf, then the --config file, then the flags, then --set; system properties win. */
    public Config config() {
        Config base = ConfigFactory.empty();
        if (configFile != null) {
            if (!Files.isRegularFile(configFile)) {
                throw new UserError("--config " + configFile + ": no such file");
            }
            base = ConfigFactory.parseFile(configFile.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        }
        Config flags = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : overrides().entrySet()) {
            flags = flags.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        if (sets != null) {
            for (String s : sets) {
                int eq = s.indexOf('=');
                if (eq <= 0) {
                    throw new UserError("--set " + s + ": expected key=value");
                }
                flags = ConfigFactory.parseString(s.substring(0, eq).trim() + " = " + quote(s.substring(eq + 1).trim()),
                        ConfigParseOptions.defaults().setOriginDescription("--set " + s)).withFallback(flags);
            }
        }
        Config user = flags.withFallback(base);
        List<String> unknown = KnownSettings.fromClassPath().unknown(user);
        if (!unknown.isEmpty()) {
            throw new UserError(String.join("; ", unknown));
        }
        return io.splitfed.actors.job.JobConfig.load(user);
    }

    private static String quote(String v) {
        return v.matches("-?[0-9.eE+-]+|true|false|on|off|\\d+[a-zA-Z]+") ? v : "\"" + v.replace("\"", "\\\"") + "\"";
    }
}
