package io.splitfed.runtime.privacy;

import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.model.data.DataSets;
import io.splitfed.model.data.Example;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorExecutor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * A curious server's audit of a prepared job's cut: the job's held-out examples sent as its first
 * device sends them (its cut, defence and uplink), and {@link CutAttack} fitted on the attacker's own
 * public text sent through the same cut and defence with draws of its own.
 *
 * @param attackerSentences how many of the attacker's sentences it fitted on
 * @param seconds the audit's wall time, captures included
 */
public record CutAudit(CutCapture victims, CutAttack.Result attack, int attackerSentences, double seconds) {

    /** The attacker's text when none is named: MNLI's pretraining pairs under the data root, disjoint from SST-2. */
    public static Path defaultPublicText(String dataRoot) {
        return Path.of(dataRoot, "mnli", "glue_pretrain_MNLI", "train.json");
    }

    /** Runs the audit on the first {@code victims} held-out examples (0: all), the attacker using {@code publicLimit} sentences of {@code publicText}. */
    public static CutAudit run(PreparedJob job, Path publicText, int publicLimit, int victims) {
        List<Example> attackerText = new ArrayList<>();
        for (Example e : read(publicText, 0, "public text")) { // each sentence of a pair on its own
            if (attackerText.size() < publicLimit) {
                attackerText.add(Example.single(e.text(), 0));
            }
            if (e.textPair() != null && attackerText.size() < publicLimit) {
                attackerText.add(Example.single(e.textPair(), 0));
            }
        }
        List<Example> held = job.evalExamples();
        List<Example> attacked = victims > 0 && held.size() > victims ? held.subList(0, victims) : held;
        long t0 = System.nanoTime();
        CutCapture server = capture(job, attacked);
        CutCapture own = capture(job, attackerText);
        HostTensor embeddings = TensorExecutor.shared().call(() -> job.model().wordEmbeddings());
        CutAttack.Result r = CutAttack.run(own, server, embeddings);
        return new CutAudit(server, r, attackerText.size(), (System.nanoTime() - t0) / 1e9);
    }

    /** What the server receives for {@code examples} under the job's cut (its first device's split point), defence and uplink. */
    public static CutCapture capture(PreparedJob job, List<Example> examples) {
        JobSpec spec = job.spec();
        int cut = spec.federation().splitPoint(0);
        return CutCapture.of(job, examples, cut, spec.privacy(), spec.pipeline().uplink(), new SecureRandom().nextLong());
    }

    /** The examples in {@code file}, at most {@code limit} (0: all); {@code what} names the file in errors. */
    public static List<Example> read(Path file, int limit, String what) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(what + " " + file + ": no such file");
        }
        List<Example> all = DataSets.read(file).examples();
        return limit > 0 && all.size() > limit ? all.subList(0, limit) : all;
    }
}
