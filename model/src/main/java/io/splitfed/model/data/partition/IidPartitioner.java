package io.splitfed.model.data.partition;

import java.util.SplittableRandom;

/** Shuffled and dealt in equal shares (sizes differ by at most one). */
public final class IidPartitioner implements Partitioner {

    @Override
    public int[][] partition(int[] labels, int devices, long seed) {
        Shards.requireDevices(devices, labels.length);
        int[] order = Shards.permutation(labels.length, new SplittableRandom(seed));
        return Shards.deal(order, Shards.equalSizes(labels.length, devices));
    }

    @Override
    public String describe() {
        return "iid";
    }
}
