package io.splitfed.model.data;

import io.splitfed.model.data.partition.Shards;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded train/validation split that keeps each class's share: every class gives the same
 * fraction of its examples to validation. Unlabelled data (label -1) is split as one class.
 */
public final class StratifiedSplit {

    /** Indices into the data set. */
    public record Split(int[] train, int[] validation) {}

    private StratifiedSplit() {}

    public static Split of(int[] labels, double validationFraction, long seed) {
        if (validationFraction < 0 || validationFraction >= 1) {
            throw new IllegalArgumentException("validation fraction must be in [0, 1), got " + validationFraction);
        }
        SplittableRandom rng = new SplittableRandom(seed);
        List<List<Integer>> byClass = Shards.byClass(labels, true);
        List<Integer> train = new ArrayList<>();
        List<Integer> val = new ArrayList<>();
        for (List<Integer> members : byClass) {
            Shards.shuffle(members, rng);
            int nVal = (int) Math.round(members.size() * validationFraction);
            val.addAll(members.subList(0, nVal));
            train.addAll(members.subList(nVal, members.size()));
        }
        Shards.shuffle(train, rng);
        Shards.shuffle(val, rng);
        return new Split(Shards.toArray(train), Shards.toArray(val));
    }

    /** At most {@code limit} indices of {@code indices}, keeping class shares (seeded). */
    public static int[] stratifiedSample(int[] indices, int[] labels, int limit, long seed) {
        if (limit >= indices.length) {
            return indices.clone();
        }
        int[] sub = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            sub[i] = labels[indices[i]];
        }
        Split s = of(sub, 1.0 - (double) limit / indices.length, seed);
        int[] out = new int[s.train().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = indices[s.train()[i]];
        }
        return out;
    }
}
