package io.splitfed.actors.cluster;

import io.splitfed.actors.job.JobSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * The job settings every node of one job must share; a node whose settings differ would train a
 * different job (another shard count routes devices to shards that do not exist).
 */
public record JobFingerprint(String mode, int devices, int shards, long seed, int rounds, int microBatch, String splitPoints, String model,
        String lora, String privacy) {

    public static JobFingerprint of(JobSpec spec) {
        var l = spec.training().lora();
        return new JobFingerprint(spec.mode().name().toLowerCase(java.util.Locale.ROOT), spec.federation().devices(), spec.server().shards(),
                spec.seed(), spec.federation().rounds(), spec.training().microBatch(),
                java.util.Arrays.toString(spec.federation().splitPoints()), spec.model().path().getFileName().toString(),
                // adapters of another rank, scale or set of targets could not be averaged with the job's
                "rank " + l.rank() + ", alpha " + l.alpha() + ", targets " + new java.util.TreeSet<>(l.targets()),
                // an edge node without the job's defence on the cut would send its devices' activations bare
                "clip " + spec.privacy().clip() + ", noise-sigma " + spec.privacy().sigma() + uShape(spec.uShape()));
    }

    /** A shard and its devices must agree on the shape: which blocks each side trains, and where the loss is. */
    private static String uShape(JobSpec.UShape u) {
        return u.enabled() ? ", u-shape with " + u.tailBlocks() + " tail blocks and " + u.noise() + ", tail server learning rate " + u.tailServerLr() : "";
    }

    /** Each setting that differs, as "splitfed.job.KEY = mine here but theirs on the job host"; empty when none. */
    public List<String> differences(JobFingerprint host) {
        List<String> out = new ArrayList<>();
        diff(out, "mode", mode, host.mode);
        diff(out, "federation.devices", devices, host.devices);
        diff(out, "server.shards", shards, host.shards);
        diff(out, "seed", seed, host.seed);
        diff(out, "federation.rounds", rounds, host.rounds);
        diff(out, "training.micro-batch", microBatch, host.microBatch);
        diff(out, "federation.split-points", splitPoints, host.splitPoints);
        diff(out, "model.path (file name)", model, host.model);
        diff(out, "training.lora", lora, host.lora);
        diff(out, "privacy", privacy, host.privacy);
        return out;
    }

    private static void diff(List<String> out, String key, Object mine, Object theirs) {
        if (!mine.equals(theirs)) {
            out.add("splitfed.job." + key + " = " + mine + " on this node but " + theirs + " on the job host");
        }
    }
}
