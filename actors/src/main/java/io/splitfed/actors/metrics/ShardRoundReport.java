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
        String node) {}
