package io.splitfed.actors.metrics;

/**
 * What a server shard got back for one example in a U-shaped split: the device's gradient at the
 * server's output, summed over the example's positions, as the label attacks read it. Recorded only
 * when {@code privacy.u-shape.record-gradients} is on, for audits.
 *
 * @param seq the micro-batch it came in (examples of one micro-batch share a step)
 * @param sampleId the example's index in the training data, which the shard is sent with every micro-batch
 */
public record SeenGradient(int device, int round, long seq, long sampleId, float[] summed) {}
