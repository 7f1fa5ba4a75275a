package io.splitfed.runtime.privacy;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.metrics.SeenGradient;
import io.splitfed.runtime.job.JobRunner;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the server of a U-shaped split reads of the labels, measured on the jobs themselves: the job
 * as configured runs in the standard shape (its server computes the loss, so it reads every label)
 * and in the U-shape, each as {@code splitfed train} runs it, and the server's label attacks
 * ({@link LabelAttack}) score the gradients the U-shaped job's shards got back, recorded by the
 * shards ({@code privacy.u-shape.record-gradients}) and joined with the true labels here, after the
 * job.
 */
public final class LabelAudit {

    private LabelAudit() {}

    /** One shape's job: its held-out accuracy, and for the U-shape the attacks on what its server got back (null for the standard shape). */
    public record Run(String shape, String defence, double accuracy, LabelAttack.Result attack, double seconds, JobRunner.Outcome outcome) {}

    /** Runs the job of {@code config} in both shapes, writing each one's metrics under {@code out}. */
    public static List<Run> run(Config config, Path out, boolean progress) throws Exception {
        Config standard = config.withValue("splitfed.job.privacy.u-shape.enabled", ConfigValueFactory.fromAnyRef(false));
        Config uShaped = config.withValue("splitfed.job.privacy.u-shape.enabled", ConfigValueFactory.fromAnyRef(true))
                .withValue("splitfed.job.privacy.u-shape.record-gradients", ConfigValueFactory.fromAnyRef(true));
        List<Run> runs = new ArrayList<>();
        JobRunner.Outcome s = JobRunner.run(standard, out.resolve("standard").resolve("metrics.json"), null, progress, null);
        runs.add(new Run("standard", "-", s.result().finalAccuracy(), null, s.result().wallSeconds(), s));
        Map<String, LabelAttack.Result> attacks = new HashMap<>();
        JobRunner.Outcome u = JobRunner.run(uShaped, out.resolve("u-shaped").resolve("metrics.json"), null, progress, null, (job, result) -> {
            attacks.put("u", attack(job, result));
            return Map.of();
        });
        var shape = u.spec().uShape();
        runs.add(new Run("U-shaped, " + shape.tailBlocks() + "-block tail", shape.noise().toString(), u.result().finalAccuracy(), attacks.get("u"),
                u.result().wallSeconds(), u));
        return runs;
    }

    /** The label attacks on every gradient {@code result}'s shards recorded, scored against {@code job}'s labels. */
    public static LabelAttack.Result attack(PreparedJob job, JobResult result) {
        Map<Long, Integer> labels = new HashMap<>();
        job.deviceData().forEach(d -> d.examples().forEach(e -> labels.put(e.sampleId(), e.label())));
        Map<String, Integer> batches = new LinkedHashMap<>();
        List<LabelAttack.Observed> seen = new ArrayList<>();
        result.shardReports().forEach(r -> {
            for (SeenGradient g : r.seenGradients()) {
                int batch = batches.computeIfAbsent(g.device() + "/" + g.round() + "/" + g.seq(), k -> batches.size());
                Integer label = labels.get(g.sampleId());
                if (label == null) {
                    throw new IllegalStateException("the shard recorded a gradient for sample " + g.sampleId() + ", which no device holds");
                }
                seen.add(new LabelAttack.Observed(g.summed(), label, batch));
            }
        });
        if (seen.isEmpty()) {
            throw new IllegalStateException("the U-shaped job's shards recorded no gradients (privacy.u-shape.record-gradients)");
        }
        return LabelAttack.run(seen);
    }
}
