package io.splitfed.actors.job;

import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.privacy.CutNoise;
import io.splitfed.model.privacy.GradientNoise;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.LrSchedule;
import io.splitfed.model.train.SegmentLearner;

import com.typesafe.config.Config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Everything a training job needs to know, read from the {@code splitfed.job} section of the
 * configuration (defaults in {@code reference.conf}; the CLI and embedders override).
 */
public record JobSpec(
        TrainingMode mode,
        long seed,
        Model model,
        Data data,
        Federation federation,
        Training training,
        Pipeline pipeline,
        Links links,
        Server server,
        Planning planning,
        Checkpointing checkpoint,
        Robustness robustness,
        CutNoise privacy,
        UShape uShape) {

    /** The base model and its tokenizer. */
    public record Model(Path path, Path tokenizer) {}

    /** This job with {@code federation.epochs} set (what "auto" came to). */
    public JobSpec withEpochs(double epochs) {
        return new JobSpec(mode, seed, model, data, federation.withEpochs(epochs), training, pipeline, links, server, planning, checkpoint, robustness,
                privacy, uShape);
    }

    /** This job with its checkpointing settings replaced (the fingerprint added once the job is prepared). */
    public JobSpec withCheckpoint(Checkpointing newCheckpoint) {
        return new JobSpec(mode, seed, model, data, federation, training, pipeline, links, server, planning, newCheckpoint, robustness, privacy, uShape);
    }

    /**
     * Training and evaluation data. {@code eval} null means: carve a stratified validation split of
     * {@code validationFraction} out of {@code train}. Limits of 0 mean all.
     */
    public record Data(Path train, Path eval, int maxLength, int pairMaxLength, int trainLimit, int evalLimit, double validationFraction,
            String pairSeparator) {

        /** The token limit for this data: pairs need room for two texts. */
        public int maxLength(boolean pairs) {
            return pairs ? pairMaxLength : maxLength;
        }
    }

    /**
     * Devices and rounds. {@code splitPoints} holds one split point for all devices or one per
     * device; {@code epochs} is how many passes over its shard each device makes over all rounds,
     * NaN for "auto" until the data is read: enough passes to train on about {@code autoEpochTokens}
     * tokens in all (see {@link #autoEpochs}).
     */
    public record Federation(int devices, String partition, int[] splitPoints, int rounds, double epochs, double sampleFraction,
            Duration roundDeadline, int minDevices, String aggregation, long autoEpochTokens) {

        /** Fewest and most passes "auto" picks. */
        static final double MIN_AUTO_EPOCHS = 0.25;
        static final double MAX_AUTO_EPOCHS = 10;

        /**
         * "auto" epochs for a training set of {@code trainTokens} tokens: as many passes as make
         * about {@code autoEpochTokens} tokens, so a small set (MRPC: 3K pairs) gets several
         * passes and a large one (SST-2: 60K phrases) part of one, in about the same time.
         */
        public double autoEpochs(long trainTokens) {
            double e = (double) autoEpochTokens / Math.max(1, trainTokens);
            return Math.max(MIN_AUTO_EPOCHS, Math.min(MAX_AUTO_EPOCHS, Math.round(e * 100) / 100.0));
        }

        public Federation withEpochs(double newEpochs) {
            return new Federation(devices, partition, splitPoints, rounds, newEpochs, sampleFraction, roundDeadline, minDevices, aggregation, autoEpochTokens);
        }

        public int splitPoint(int device) {
            return splitPoints.length == 1 ? splitPoints[0] : splitPoints[device];
        }

        public int minSplitPoint() {
            return Arrays.stream(splitPoints).min().orElse(0);
        }
    }

    /** The optimizer and adapters. */
    public record Training(LoraConfig lora, boolean freezeA, double learningRate, LrSchedule.Kind schedule, double warmupFraction,
            AdamW.Settings optimizer, int microBatch, SegmentLearner.Backward backward) {}

    /** Flow control and what goes on the wire. */
    public record Pipeline(int window, boolean activationCache, long cacheBytesPerDevice, Duration ackTimeout,
            TensorPayload.Encoding uplink, TensorPayload.Encoding downlink) {}

    /** Simulated device links; {@code enabled} false delivers at once. */
    public record Links(boolean enabled, double uplinkMbps, double downlinkMbps, Duration latency) {}

    /**
     * Server-side workers: how many shards, whether SFL keeps one server adapter per device, and
     * from how many devices' micro-batches a SplitFrozen step takes its rows.
     */
    public record Server(int shards, boolean perDeviceReplicas, int mixDevices) {}

    /**
     * How each round's split points, bit-widths and link rates are chosen ({@code policy}: static,
     * sflllm or sflam), and the radio the planner allocates. Distances are uniform in
     * [{@code minDistanceMeters}, {@code maxDistanceMeters}], seeded per device; Rayleigh fading is
     * redrawn each round when {@code fading} is on. {@code serverFlops} 0 means: measured from the
     * shards' rounds.
     */
    public record Planning(String policy, double delayWeight, int[] bits, int[] splitPoints, Duration profileTimeout,
            double serverFlops, int subchannelsPerDevice, double subchannelHz, double noiseWattsPerHz, double devicePowerWatts,
            double totalPowerWattsPerDevice, double downlinkMbps, double minDistanceMeters, double maxDistanceMeters, boolean fading,
            double joulesPerFlop) {}

    /**
     * Checkpoints at round boundaries into {@code dir} (null: none): every {@code everyRounds}
     * rounds, and at the first boundary after {@code interval} since the last (zero: off), keeping
     * the newest {@code keep}. {@code resume}: start from the newest checkpoint in {@code dir}.
     * {@code job} is the job's fingerprint, which its checkpoints carry and a resume must match:
     * null until the job is prepared ({@link JobPreparation} reads the model and data it names).
     */
    public record Checkpointing(Path dir, int everyRounds, Duration interval, int keep, boolean resume, Duration gatherTimeout,
            io.splitfed.actors.checkpoint.CheckpointFingerprint job) {

        public boolean enabled() {
            return dir != null;
        }

        public Checkpointing withJob(io.splitfed.actors.checkpoint.CheckpointFingerprint fingerprint) {
            return new Checkpointing(dir, everyRounds, interval, keep, resume, gatherTimeout, fingerprint);
        }
    }

    /**
     * What the coordinator does with devices that fail or misbehave, and with late work.
     *
     * @param quarantineAfter refused messages or updates in one round that quarantine a device
     * @param failLimit rounds in a row a device may be late or gone before it is benched
     * @param banRounds the first ban's length in rounds; each further ban of the same device is twice as long
     * @param normOutlierFactor an adapter update whose distance from the global adapter is more than
     *     this many times the round's median distance is refused (with three updates or more)
     * @param asynchronous late devices are not stopped at the deadline: their work is applied when
     *     it arrives, adapter updates weighted by {@code 1 / (1 + staleness)^stalenessExponent}
     */
    public record Robustness(int quarantineAfter, int failLimit, int banRounds, double normOutlierFactor, boolean asynchronous,
            double stalenessExponent) {}

    /**
     * The U-shaped split (SplitFrozen and SFL): the device keeps its last {@code tailBlocks} blocks, the head
     * and the loss, so the server never reads a label; it gets back only the gradient at its
     * output, scaled per example by {@code noise}. {@code recordGradients}: each shard's round
     * report carries what it got back (per example, summed over positions), for audits of what a
     * server could infer from it. {@code tailServerLr}: the server learning rate on each round's
     * averaged tail updates (1: FedAvg).
     */
    public record UShape(boolean enabled, int tailBlocks, GradientNoise noise, boolean recordGradients, double tailServerLr) {}

    /** Reads {@code splitfed.job}; every field must be present (reference.conf supplies defaults). */
    public static JobSpec fromConfig(Config root) {
        Config c = root.getConfig("splitfed.job");
        TrainingMode mode = TrainingMode.parse(c.getString("mode"));
        Config d = c.getConfig("data");
        Config f = c.getConfig("federation");
        Config t = c.getConfig("training");
        Config p = c.getConfig("pipeline");
        Config l = c.getConfig("links");
        Config s = c.getConfig("server");
        Config a = c.getConfig("planning");
        int devices = f.getInt("devices");
        int[] splits = parseInts(f.getString("split-points"), "splitfed.job.federation.split-points");
        if (splits.length != 1 && splits.length != devices) {
            throw new IllegalArgumentException("splitfed.job.federation.split-points has " + splits.length
                    + " entries; expected one for all devices or one per device (" + devices + ")");
        }
        if (mode == TrainingMode.SFL && Arrays.stream(splits).distinct().count() > 1) {
            throw new IllegalArgumentException("splitfed.job.federation.split-points: sfl averages device adapters, so all devices need the same split point; got "
                    + Arrays.toString(splits));
        }
        LoraConfig lora = new LoraConfig(t.getInt("lora.rank"), t.getDouble("lora.alpha"), t.getDouble("lora.dropout"),
                LoraTarget.parse(t.getString("lora.targets")));
        AdamW.Settings opt = new AdamW.Settings(t.getDouble("beta1"), t.getDouble("beta2"), t.getDouble("eps"),
                t.getDouble("weight-decay"), t.getDouble("max-grad-norm"));
        return new JobSpec(
                mode,
                c.getLong("seed"),
                new Model(path(c, "model.path"), optionalPath(c, "model.tokenizer")),
                new Data(path(d, "train"), optionalPath(d, "eval"), d.getInt("max-length"), d.getInt("pair-max-length"), d.getInt("train-limit"),
                        d.getInt("eval-limit"), d.getDouble("validation-fraction"), d.getString("pair-separator")),
                new Federation(mode == TrainingMode.CENTRALIZED ? 1 : devices, f.getString("partition"), splits, f.getInt("rounds"),
                        epochs(f), f.getDouble("sample-fraction"), f.getDuration("round-deadline"), f.getInt("min-devices"),
                        f.getString("aggregation"), f.getLong("auto-epoch-tokens")),
                new Training(lora, t.getBoolean("freeze-a") || f.getString("aggregation").equalsIgnoreCase("ffa"),
                        t.getDouble("learning-rate"), LrSchedule.parseKind(t.getString("schedule")),
                        t.getDouble("warmup-fraction"), opt, t.getInt("micro-batch"),
                        SegmentLearner.Backward.valueOf(t.getString("backward").toUpperCase(java.util.Locale.ROOT))),
                new Pipeline(p.getInt("window"), p.getBoolean("activation-cache"), p.getBytes("cache-bytes-per-device"),
                        p.getDuration("ack-timeout"), TensorPayload.Encoding.forBits(p.getInt("uplink-bits")),
                        TensorPayload.Encoding.forBits(p.getInt("downlink-bits"))),
                new Links(l.getBoolean("enabled"), l.getDouble("uplink-mbps"), l.getDouble("downlink-mbps"), l.getDuration("latency")),
                new Server(s.getInt("shards"), s.getString("sfl-server-model").equalsIgnoreCase("per-device"), s.getInt("mix-devices")),
                planning(a),
                new Checkpointing(optionalPath(c, "checkpoint.dir"), c.getInt("checkpoint.every-rounds"), c.getDuration("checkpoint.interval"),
                        c.getInt("checkpoint.keep"), c.getBoolean("checkpoint.resume"), c.getDuration("checkpoint.gather-timeout"), null),
                new Robustness(c.getInt("robustness.quarantine-after"), c.getInt("robustness.fail-limit"), c.getInt("robustness.ban-rounds"),
                        c.getDouble("robustness.norm-outlier-factor"), c.getString("robustness.late-updates").equalsIgnoreCase("apply"),
                        c.getDouble("robustness.staleness-exponent")),
                new CutNoise(c.getDouble("privacy.clip"), c.getDouble("privacy.noise-sigma")),
                uShape(c.getConfig("privacy.u-shape")));
    }

    private static UShape uShape(Config u) {
        double tau = u.getDouble("label-noise");
        if (!(tau >= 0) || Double.isInfinite(tau)) {
            throw new IllegalArgumentException("splitfed.job.privacy.u-shape.label-noise = " + tau + ": expected a finite number, 0 or more");
        }
        double lr = u.getDouble("tail-server-lr");
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("splitfed.job.privacy.u-shape.tail-server-lr = " + lr + ": expected a positive number (1: FedAvg)");
        }
        double floor = u.getDouble("norm-floor");
        if (!(floor >= 0) || Double.isInfinite(floor)) {
            throw new IllegalArgumentException("splitfed.job.privacy.u-shape.norm-floor = " + floor + ": expected a finite number, 0 or more (0: none)");
        }
        return new UShape(u.getBoolean("enabled"), u.getInt("tail-blocks"), new GradientNoise(tau, u.getBoolean("even-norms"), floor),
                u.getBoolean("record-gradients"), lr);
    }

    /** {@code federation.epochs}: a positive number, or "auto" (NaN here). */
    private static double epochs(Config f) {
        if (f.getValue("epochs").unwrapped() instanceof String s && s.strip().equalsIgnoreCase("auto")) {
            return Double.NaN;
        }
        try {
            return f.getDouble("epochs");
        } catch (com.typesafe.config.ConfigException.WrongType e) {
            throw new IllegalArgumentException("splitfed.job.federation.epochs = " + f.getValue("epochs").render()
                    + ": expected a positive number or auto");
        }
    }

    private static Planning planning(Config a) {
        String policy = a.getString("policy").toLowerCase(java.util.Locale.ROOT);
        if (!List.of("static", "sflllm", "sflam").contains(policy)) {
            throw new IllegalArgumentException("splitfed.job.planning.policy = \"" + policy + "\": expected static, sflllm or sflam");
        }
        List<Double> distance = a.getDoubleList("distance-meters");
        if (distance.size() != 2 || distance.get(0) <= 0 || distance.get(1) < distance.get(0)) {
            throw new IllegalArgumentException("splitfed.job.planning.distance-meters = " + distance + ": expected [min, max] with 0 < min <= max");
        }
        int[] bits = parseInts(a.getString("bits"), "splitfed.job.planning.bits");
        for (int b : bits) {
            TensorPayload.Encoding.forBits(b);
        }
        return new Planning(policy, a.getDouble("delay-weight"), bits, parseInts(a.getString("split-points"), "splitfed.job.planning.split-points"),
                a.getDuration("profile-timeout"), a.getDouble("server-flops"), a.getInt("subchannels-per-device"),
                a.getDouble("subchannel-khz") * 1e3, Math.pow(10, a.getDouble("noise-dbm-per-hz") / 10) / 1000, a.getDouble("device-power-watts"),
                a.getDouble("total-power-watts-per-device"), a.getDouble("downlink-mbps"), distance.get(0), distance.get(1),
                a.getBoolean("fading"), a.getDouble("joules-per-flop"));
    }

    private static Path path(Config c, String key) {
        return Path.of(c.getString(key));
    }

    private static Path optionalPath(Config c, String key) {
        return c.hasPath(key) && !c.getString(key).isBlank() ? Path.of(c.getString(key)) : null;
    }

    static int[] parseInts(String s, String key) {
        try {
            return Arrays.stream(s.split("[,\\s]+")).filter(x -> !x.isBlank()).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " = \"" + s + "\" is not a comma-separated list of integers");
        }
    }

    private static void atLeastOne(List<String> problems, String key, int value) {
        if (value < 1) {
            problems.add(key + " must be at least 1");
        }
    }

    /** Checks the numbers against each other and against the model's depth. */
    public JobSpec validated(int modelLayers) {
        List<String> problems = new java.util.ArrayList<>();
        for (int k : federation.splitPoints) {
            if (k < 0 || k > modelLayers) {
                problems.add("split point " + k + " is outside 0.." + modelLayers + " (the model has " + modelLayers + " blocks)");
            }
        }
        atLeastOne(problems, "federation.devices", federation.devices);
        atLeastOne(problems, "federation.rounds", federation.rounds);
        if (!(federation.epochs > 0) && !Double.isNaN(federation.epochs)) {
            problems.add("federation.epochs must be positive or auto");
        }
        if (federation.sampleFraction <= 0 || federation.sampleFraction > 1) {
            problems.add("federation.sample-fraction must be in (0, 1]");
        }
        atLeastOne(problems, "training.micro-batch", training.microBatch);
        atLeastOne(problems, "pipeline.window", pipeline.window);
        atLeastOne(problems, "server.mix-devices", server.mixDevices);
        atLeastOne(problems, "server.shards", server.shards);
        for (int k : planning.splitPoints) {
            if (k < federation.minSplitPoint() || k > modelLayers) {
                problems.add("planning.split-points: " + k + " is outside " + federation.minSplitPoint() + ".." + modelLayers
                        + " (from the lowest configured split point, where the server's adapter begins, to the last block)");
            }
        }
        atLeastOne(problems, "checkpoint.every-rounds", checkpoint.everyRounds);
        atLeastOne(problems, "checkpoint.keep", checkpoint.keep);
        if (checkpoint.resume && checkpoint.dir == null) {
            problems.add("checkpoint.resume needs checkpoint.dir");
        }
        if (planning.delayWeight < 0 || planning.delayWeight > 1) {
            problems.add("planning.delay-weight must be in [0, 1]");
        }
        if (uShape.enabled()) {
            if (!mode.isSplit()) {
                problems.add("privacy.u-shape is offered for the split modes (splitfrozen, sfl), not " + mode.id() + ", whose devices hold the whole model");
            }
            if (Arrays.stream(federation.splitPoints).distinct().count() > 1) {
                problems.add("privacy.u-shape needs one split point for all devices, got " + Arrays.toString(federation.splitPoints));
            }
            if (!planning.policy().equals("static")) {
                problems.add("privacy.u-shape keeps each device's cut where it is configured; planning.policy must be static, not " + planning.policy());
            }
            int cut = federation.minSplitPoint();
            if (uShape.tailBlocks() < 0 || modelLayers - uShape.tailBlocks() <= cut) {
                problems.add("privacy.u-shape.tail-blocks = " + uShape.tailBlocks() + " leaves the server none of blocks " + cut + ".." + (modelLayers - 1)
                        + " (expected 0 to " + Math.max(0, modelLayers - cut - 1) + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("splitfed.job: " + String.join("; ", problems));
        }
        return this;
    }
}
