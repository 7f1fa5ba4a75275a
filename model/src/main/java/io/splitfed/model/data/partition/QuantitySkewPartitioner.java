package io.splitfed.model.data.partition;

import java.util.SplittableRandom;

/**
 * Quantity skew: labels stay IID, but shard sizes follow Dirichlet(alpha) proportions, with every
 * device holding at least one example.
 */
public final class QuantitySkewPartitioner implements Partitioner {

    private final double alpha;

    public QuantitySkewPartitioner(double alpha) {
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("quantity-skew alpha must be positive, got " + alpha);
        }
        this.alpha = alpha;
    }

    @Override
    public int[][] partition(int[] labels, int devices, long seed) {
        Shards.requireDevices(devices, labels.length);
        SplittableRandom rng = new SplittableRandom(seed);
        int[] order = Shards.permutation(labels.length, rng);
        int spare = labels.length - devices;
        int[] sizes = Shards.apportion(spare, Shards.dirichlet(alpha, devices, rng));
        for (int d = 0; d < devices; d++) {
            sizes[d]++;
        }
        return Shards.deal(order, sizes);
    }

    @Override
    public String describe() {
        return "quantity:" + alpha;
    }
}
