package io.splitfed.actors.metrics;

import java.util.List;

/**
 * What one device did in one round.
 *
 * @param cachedMicroBatches micro-batches served from the activation cache (no compute)
 * @param computeSeconds time the device's tensor work took
 * @param flops floating-point operations of that work (2 per multiply-add)
 * @param localLosses losses of steps the device ran itself (FedLoRA, centralized)
 * @param nextRoundTokens padded tokens in the micro-batches the device runs next round (as many
 *     as this round), for the planner
 * @param uplinkMbps the uplink rate the round's plan allocated; 0: the link's own
 * @param uplinkWatts the transmit power that rate was allocated at; 0: the device's own
 */
public record DeviceRoundStats(
        int device,
        int round,
        int samples,
        int microBatches,
        int cachedMicroBatches,
        double computeSeconds,
        double flops,
        long bytesUp,
        long bytesDown,
        int resent,
        List<StepLoss> localLosses,
        List<TimelineEvent> timeline,
        long nextRoundTokens,
        double uplinkMbps,
        double uplinkWatts) {

    /** A round at the link's own rate and power. */
    public DeviceRoundStats(int device, int round, int samples, int microBatches, int cachedMicroBatches, double computeSeconds, double flops,
            long bytesUp, long bytesDown, int resent, List<StepLoss> localLosses, List<TimelineEvent> timeline, long nextRoundTokens) {
        this(device, round, samples, microBatches, cachedMicroBatches, computeSeconds, flops, bytesUp, bytesDown, resent, localLosses, timeline,
                nextRoundTokens, 0, 0);
    }
}
