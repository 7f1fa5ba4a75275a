package io.splitfed.runtime.cli;

import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.model.data.Example;
import io.splitfed.model.privacy.GradientNoise;
import io.splitfed.runtime.privacy.CutAttack;
import io.splitfed.runtime.privacy.CutAudit;
import io.splitfed.runtime.privacy.CutCapture;
import io.splitfed.runtime.privacy.LabelAttack;
import io.splitfed.runtime.privacy.LabelAudit;
import io.splitfed.runtime.privacy.Npy;
import io.splitfed.runtime.privacy.UShapeTrial;

import com.fasterxml.jackson.databind.ObjectMapper;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** What a server can read at the cut: a capture of exactly what it receives, and splitfed's attack on it. */
@Command(name = "privacy", mixinStandardHelpOptions = true, description = "What the server can read at the cut: capture it, attack it.",
        subcommands = {PrivacyCommand.Capture.class, PrivacyCommand.Attack.class, PrivacyCommand.Labels.class,
                PrivacyCommand.LabelTrial.class})
public final class PrivacyCommand implements Runnable {

    @Override
    public void run() {
        throw new UserError("privacy: name a subcommand, capture, attack, labels or label-trial (splitfed privacy --help)");
    }

    static List<Example> read(Path file, int limit, String what) {
        if (!Files.isRegularFile(file)) {
            throw new UserError(what + " " + file + ": no such file");
        }
        return CutAudit.read(file, limit, what);
    }

    @Command(name = "capture", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Write exactly what the server receives for the examples in --data, sent as a device sends them under the job's",
                "cut, --privacy defence and uplink bits: activations.npy [n, L, hidden] (dequantized as the server does), mask.npy,",
                "token_ids.npy (ground truth, for scoring), labels.npy and meta.json."})
    static final class Capture implements Callable<Integer> {

        @Mixin
        JobOptions job;

        @Option(names = "--out", required = true, description = "Directory to write into")
        Path out;

        @Option(names = "--data", description = "Examples to send (any format --train takes; default: the job's held-out examples)")
        Path data;

        @Option(names = "--limit", defaultValue = "0", description = "At most this many examples; 0: all (default: ${DEFAULT-VALUE})")
        int limit;

        @Override
        public Integer call() throws Exception {
            PreparedJob prepared = JobPreparation.prepare(JobSpec.fromConfig(job.config()));
            List<Example> examples = data != null ? read(data, limit, "--data")
                    : prepared.evalExamples().subList(0, limit > 0 ? Math.min(limit, prepared.evalExamples().size()) : prepared.evalExamples().size());
            CutCapture c = CutAudit.capture(prepared, examples);
            Files.createDirectories(out);
            int n = examples.size();
            float[] acts = new float[n * c.length() * c.hidden()];
            int[] ids = new int[n * c.length()];
            boolean[] mask = new boolean[n * c.length()];
            for (int s = 0; s < n; s++) {
                System.arraycopy(c.states()[s], 0, acts, s * c.length() * c.hidden(), c.length() * c.hidden());
                System.arraycopy(c.tokens()[s], 0, ids, s * c.length(), c.length());
                System.arraycopy(c.real()[s], 0, mask, s * c.length(), c.length());
            }
            Npy.float32(out.resolve("activations.npy"), acts, n, c.length(), c.hidden());
            Npy.bool(out.resolve("mask.npy"), mask, n, c.length());
            Npy.int32(out.resolve("token_ids.npy"), ids, n, c.length());
            Npy.int32(out.resolve("labels.npy"), c.labels(), n);
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("model", prepared.spec().model().path().toString());
            meta.put("cut", c.cut());
            meta.put("clip", c.noise().clip());
            meta.put("noise_sigma", c.noise().sigma());
            meta.put("bits", c.encoding().bits());
            meta.put("examples", n);
            meta.put("mask", "true where a position holds a real token of the example (not padding, not a special token)");
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.resolve("meta.json").toFile(), meta);
            System.out.printf("%d examples, cut after %d blocks, defence %s, %d-bit uplink: %s%n", n, c.cut(), c.noise(), c.encoding().bits(), out);
            return 0;
        }
    }

    @Command(name = "attack", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"splitfed's attack on the job's cut, as an honest-but-curious server would run it: it fits an inversion on",
                "public text of its own sent through the same cut and defence, then reads the held-out examples' tokens back."})
    static final class Attack implements Callable<Integer> {

        @Mixin
        JobOptions job;

        @Option(names = "--public", description = "The attacker's own text, disjoint from the devices' (default: MNLI's pretraining pairs under the data root)")
        Path publicText;

        @Option(names = "--public-limit", defaultValue = "3000", description = "Sentences of --public the attacker uses (default: ${DEFAULT-VALUE})")
        int publicLimit;

        @Option(names = "--victims", defaultValue = "300", description = "Held-out examples attacked; 0: all (default: ${DEFAULT-VALUE})")
        int victims;

        @Override
        public Integer call() throws Exception {
            var config = job.config();
            PreparedJob prepared = JobPreparation.prepare(JobSpec.fromConfig(config));
            Path text = publicText != null ? publicText : CutAudit.defaultPublicText(config.getString("splitfed.data-root"));
            read(text, 1, "--public");
            CutAudit audit = CutAudit.run(prepared, text, publicLimit, victims);
            CutCapture server = audit.victims();
            CutAttack.Result r = audit.attack();
            System.out.printf("cut after %d blocks, defence %s, %d-bit uplink; attacker: %d sentences of %s%n", server.cut(), server.noise(),
                    server.encoding().bits(), audit.attackerSentences(), text.getFileName());
            System.out.printf("recovered %s (map %s, ridge penalty %.0e, prior weight %.1f, %.1f%% of its own held-back text; %.0f s)%n", r.recovery(),
                    r.kind(), r.lambda(), r.priorWeight(), 100 * r.heldBackRate(), audit.seconds());
            if (server.noise().sigma() > 0) {
                System.out.printf("Gaussian mechanism for one token's vector: epsilon %.1f at delta 1e-5 (a bound for one release, not a promise about text)%n",
                        server.noise().epsilon(1e-5));
            }
            return 0;
        }
    }

    @Command(name = "labels", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"What the server of a U-shaped split reads of the labels, on the jobs themselves: the job as configured runs in",
                "the standard shape (its server computes the loss, so it reads every label) and in the U-shape (--label-noise,",
                "--tail-blocks), each as `splitfed train` runs it, and the server's norm and direction attacks score the gradients the",
                "U-shaped job's shards got back."})
    static final class Labels implements Callable<Integer> {

        @Mixin
        JobOptions job;

        @Option(names = "--out", defaultValue = "runs/privacy-labels", description = "Where each shape's metrics go (default: ${DEFAULT-VALUE})")
        Path out;

        @Option(names = "--no-progress", description = "No progress bars")
        boolean noProgress;

        @Override
        public Integer call() throws Exception {
            job.uShape = true; // --label-noise and --tail-blocks set the U-shaped job's defence
            var config = job.config();
            JobSpec spec = JobSpec.fromConfig(config);
            if (!spec.mode().isSplit()) {
                throw new UserError("privacy labels: the U-shaped split is offered for the split modes (splitfrozen, sfl); --mode " + spec.mode().id()
                        + " has none");
            }
            List<LabelAudit.Run> runs = LabelAudit.run(config, out, !noProgress);
            System.out.printf("cut after %d blocks, %s%n", spec.federation().splitPoint(0), runs.get(0).outcome().evalDescription());
            System.out.println("| shape | label defence | norm attack AUC | direction attack AUC | projection attack AUC | held-out accuracy | seconds |");
            System.out.println("|---|---|---:|---:|---:|---:|---:|");
            for (LabelAudit.Run r : runs) {
                System.out.printf(Locale.ROOT, "| %s | %s | %s | %.2f%% | %.0f |%n", r.shape(), r.defence(), aucs(r.attack()), 100 * r.accuracy(),
                        r.seconds());
            }
            System.out.printf(Locale.ROOT, "accuracy, U-shaped minus standard: %+.2f points; metrics in %s%n",
                    100 * (runs.get(1).accuracy() - runs.get(0).accuracy()), out);
            return 0;
        }
    }

    @Command(name = "label-trial", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"A quick sweep of the U-shaped split's label defences in one process, outside the actors, on the job's model, cut",
                "and data: the standard shape and the U-shape under each --noises and --tails train the same micro-batches, once each, and",
                "the server's norm and direction attacks score what it got back. `privacy labels` measures the jobs themselves."})
    static final class LabelTrial implements Callable<Integer> {

        @Mixin
        JobOptions job;

        @Option(names = "--samples", defaultValue = "8000", description = "Training examples each variant trains on, once (default: ${DEFAULT-VALUE})")
        int samples;

        @Option(names = "--noises", split = ",", defaultValue = "0,1,2,4",
                description = "U-shape variants: each example's returned gradient scaled by 1 + tau z, z normal (default: ${DEFAULT-VALUE})")
        List<Double> taus;

        @Option(names = "--even-norms", description = "Also run each U-shape variant with every example's returned gradient first scaled to its "
                + "micro-batch's mean norm, against the norm attack")
        boolean evenNorms;

        @Option(names = "--norm-floors", split = ",", defaultValue = "0",
                description = "U-shape variants: an added draw along each example's returned gradient, of this many times its micro-batch's "
                        + "mean norm, against the norm attack; a list runs each with each --noises (default: ${DEFAULT-VALUE})")
        List<Double> floors;

        @Option(names = "--tails", split = ",", defaultValue = "0",
                description = "Blocks the device keeps after the server's, trained there with the head (default: ${DEFAULT-VALUE}); a list runs each")
        List<Integer> tails;

        @Override
        public Integer call() throws Exception {
            if (samples < 1) {
                throw new UserError("--samples " + samples + ": expected at least 1");
            }
            List<GradientNoise> noises = new ArrayList<>();
            for (double floor : floors) {
                if (!(floor >= 0) || Double.isInfinite(floor)) {
                    throw new UserError("--norm-floors " + floor + ": expected a finite number, 0 or more");
                }
            }
            for (double tau : taus) {
                if (!(tau >= 0) || Double.isInfinite(tau)) {
                    throw new UserError("--noises " + tau + ": expected a finite number, 0 or more");
                }
                for (double floor : floors) {
                    noises.add(new GradientNoise(tau, false, floor));
                    if (evenNorms) {
                        noises.add(new GradientNoise(tau, true, floor));
                    }
                }
            }
            PreparedJob prepared = JobPreparation.prepare(JobSpec.fromConfig(job.config()));
            if (!prepared.head().peftTaskType().equals("SEQ_CLS")) {
                throw new UserError("privacy label-trial: the job's task has no labels to attack (expected a classification task, got "
                        + prepared.head().peftTaskType() + ")");
            }
            var batches = UShapeTrial.batches(prepared, samples);
            List<UShapeTrial.Outcome> outcomes = new ArrayList<>();
            outcomes.add(UShapeTrial.standard(prepared, batches));
            int cut = prepared.spec().federation().splitPoint(0);
            for (int tail : tails) {
                if (tail < 0 || prepared.model().numLayers() - tail <= cut) {
                    throw new UserError("--tails " + tail + ": expected 0 to " + (prepared.model().numLayers() - cut - 1)
                            + ", so that the server keeps a block after the cut at " + cut);
                }
            }
            for (int tail : tails) {
                for (GradientNoise noise : noises) {
                    outcomes.add(UShapeTrial.uShaped(prepared, batches, noise, tail));
                }
            }
            System.out.printf("cut after %d blocks, %d training examples each, %s%n", cut, outcomes.get(0).samples(),
                    prepared.evalDescription());
            System.out.println("| shape | label defence | signs flipped | norm attack AUC | direction attack AUC | projection attack AUC | held-out accuracy | seconds |");
            System.out.println("|---|---|---:|---:|---:|---:|---:|---:|");
            for (UShapeTrial.Outcome o : outcomes) {
                System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %.1f%% | %.0f |%n", o.shape(), o.noise() == null ? "-" : o.noise(),
                        o.noise() == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * o.flippedShare()), aucs(o.attack()),
                        100 * o.accuracy(), o.seconds());
            }
            return 0;
        }
    }

    /** The three label attacks' AUCs as table cells; a standard shape's server computes the loss and reads every label. */
    static String aucs(LabelAttack.Result attack) {
        if (attack == null) {
            return "1.00 (computes the loss) | 1.00 | 1.00";
        }
        return String.format(Locale.ROOT, "%.3f | %.3f | %.3f", attack.normAuc(), attack.directionAuc(), attack.projectionAuc());
    }
}
