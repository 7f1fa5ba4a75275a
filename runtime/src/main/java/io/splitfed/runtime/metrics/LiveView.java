package io.splitfed.runtime.metrics;

import java.util.List;

/**
 * What the live page shows, as {@code /live.json} serves it: one consistent snapshot of
 * {@link LiveMetrics}, taken under its lock. {@code version} counts the job events seen, so two
 * reads with the same version hold the same figures.
 *
 * @param state {@code waiting} before the first round, then {@code running}, {@code finished} or {@code failed}
 * @param round the round running now (1-based), or the last one once the job ended; 0 before the first
 * @param history one point per closed round, in order: the accuracy curve and the losses
 * @param devices the running round's sampled devices, by id
 * @param late the last closed round's devices that missed its deadline; {@code gone} and {@code benched} likewise
 */
public record LiveView(long version, String state, int round, int rounds, double roundProgress, double samplesPerSecond, long samplesTrained,
        long bytesUp, long bytesDown, List<RoundPoint> history, List<DeviceRow> devices, List<ShardRow> shards, List<Integer> late,
        List<Integer> gone, List<Integer> benched) {

    /** A closed round: its validation accuracy (NaN for language modelling) and losses. */
    public record RoundPoint(int round, double accuracy, double evalLoss, double trainLoss, int sampled, int done, boolean closedByDeadline) {}

    /**
     * A device of the running round: the share of its micro-batches answered, how many it trails the
     * fastest device by, how many are in flight, seconds since its last answer (0 once done), and
     * the bytes it has sent and received in the whole job.
     */
    public record DeviceRow(int device, double progress, double lag, int inFlight, double secondsSinceAnswer, long bytesUp, long bytesDown) {}

    /** A server shard: micro-batches queued now, and the training steps it reports (a replaced shard counts from 0). */
    public record ShardRow(int shard, int queued, long steps) {}
}
