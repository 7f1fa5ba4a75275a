package io.splitfed.model.data.partition;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Label skew after Hsu et al.: each class is split over the devices in proportions drawn from
 * Dirichlet(alpha). Small alpha gives each device few classes; large alpha approaches IID. Draws
 * are repeated (seeded) until every device holds at least one example.
 */
public final class DirichletPartitioner implements Partitioner {

    private static final int MAX_DRAWS = 1000;
    private final double alpha;

    public DirichletPartitioner(double alpha) {
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("Dirichlet alpha must be positive, got " + alpha);
        }
        this.alpha = alpha;
    }

    @Override
    public int[][] partition(int[] labels, int devices, long seed) {
        Shards.requireDevices(devices, labels.length);
        SplittableRandom rng = new SplittableRandom(seed);
        List<List<Integer>> classes = Shards.byClass(labels, false);
        for (int attempt = 0; attempt < MAX_DRAWS; attempt++) {
            List<List<Integer>> perDevice = new ArrayList<>();
            for (int d = 0; d < devices; d++) {
                perDevice.add(new ArrayList<>());
            }
            for (List<Integer> members : classes) {
                List<Integer> shuffled = new ArrayList<>(members);
                Shards.shuffle(shuffled, rng);
                int[] counts = Shards.apportion(shuffled.size(), Shards.dirichlet(alpha, devices, rng));
                int pos = 0;
                for (int d = 0; d < devices; d++) {
                    perDevice.get(d).addAll(shuffled.subList(pos, pos + counts[d]));
                    pos += counts[d];
                }
            }
            if (perDevice.stream().allMatch(l -> !l.isEmpty())) {
                return Shards.toArrays(perDevice, rng);
            }
        }
        throw new IllegalArgumentException(
                "Dirichlet(" + alpha + ") left a device empty in " + MAX_DRAWS + " draws; use fewer devices or a larger alpha");
    }

    @Override
    public String describe() {
        return "dirichlet:" + alpha;
    }
}
