package io.splitfed.actors.metrics;

import java.util.List;
import java.util.Map;

/**
 * What one server shard did in one round.
 *
 * @param trainedSamples samples trained per device (each at most once)
 * @param duplicates micro-batches that arrived again and were acknowledged without training
 * @param rejected micro-batches refused (closed round, bad payload), with reasons
 * @param strikes micro-batches refused for what they held (unknown device, shape, NaN...), by device
 * @param node the address of the node the shard closed the round on
 * @param seenGradients the U-shape's gradients the shard got back, per example, when
 *     {@code privacy.u-shape.record-gradients} is on; else empty
 */
public record ShardRoundReport(
        int shard,
        int round,
        Map<Integer, Integer> trainedSamples,
        int duplicates,
        List<String> rejected,
        List<StepLoss> losses,
        double trainSeconds,
        double flops,
        long bytesDown,
        List<TimelineEvent> timeline,
        Map<Integer, Integer> strikes,
        String node,
        List<SeenGradient> seenGradients) {

    /** A report that records no gradients. */
    public ShardRoundReport(int shard, int round, Map<Integer, Integer> trainedSamples, int duplicates, List<String> rejected, List<StepLoss> losses,
            double trainSeconds, double flops, long bytesDown, List<TimelineEvent> timeline, Map<Integer, Integer> strikes, String node) {
        this(shard, round, trainedSamples, duplicates, rejected, losses, trainSeconds, flops, bytesDown, timeline, strikes, node, List.of());
    }
}
