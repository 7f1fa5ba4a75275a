package io.splitfed.optimizer;

import java.util.List;

/**
 * What the optimiser plans for: the devices, the shared channel, the model, the server, and the
 * choices it may make.
 *
 * @param deviceTrains SFL (devices train LoRA and receive cut gradients) or SplitFrozen (devices
 *     run frozen blocks forward only)
 * @param serverFlopsPerSecond the server's speed, shared evenly by the devices it serves at once
 * @param splitPoints candidate split points
 * @param ranks candidate LoRA ranks
 * @param bits candidate bit-widths on the wire
 * @param microBatch samples per micro-batch when the runtime pipelines a round; 0 models the
 *     papers' sequential round (compute, send, wait)
 */
public record Scenario(
        List<Device> devices,
        Channel channel,
        ModelCost model,
        boolean deviceTrains,
        double serverFlopsPerSecond,
        int[] splitPoints,
        int[] ranks,
        int[] bits,
        ConvergenceModel convergence,
        int microBatch) {

    public int size() {
        return devices.size();
    }
}
