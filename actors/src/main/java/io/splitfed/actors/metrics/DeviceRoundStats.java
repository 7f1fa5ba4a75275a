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
        long nextRoundTokens) {}
