package io.splitfed.model.data.partition;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Pathological label skew: device {@code d} holds only classes {@code (d*c + j) mod K} for
 * {@code j < c}, and each class is shared evenly among the devices that hold it. With c = 1 every
 * device sees a single label, the papers' "extremely imbalanced" setting.
 */
public final class ClassesPerDevicePartitioner implements Partitioner {

    private final int classesPerDevice;

    public ClassesPerDevicePartitioner(int classesPerDevice) {
        if (classesPerDevice < 1) {
            throw new IllegalArgumentException("classes per device must be at least 1, got " + classesPerDevice);
        }
        this.classesPerDevice = classesPerDevice;
    }

    @Override
    public int[][] partition(int[] labels, int devices, long seed) {
        Shards.requireDevices(devices, labels.length);
        SplittableRandom rng = new SplittableRandom(seed);
        List<List<Integer>> classes = Shards.byClass(labels, false);
        int k = classes.size();
        if (classesPerDevice > k) {
            throw new IllegalArgumentException(classesPerDevice + " classes per device, but the data has only " + k);
        }
        List<List<Integer>> holders = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            holders.add(new ArrayList<>());
        }
        for (int d = 0; d < devices; d++) {
            for (int j = 0; j < classesPerDevice; j++) {
                holders.get((d * classesPerDevice + j) % k).add(d);
            }
        }
        List<List<Integer>> perDevice = new ArrayList<>();
        for (int d = 0; d < devices; d++) {
            perDevice.add(new ArrayList<>());
        }
        for (int c = 0; c < k; c++) {
            List<Integer> members = new ArrayList<>(classes.get(c));
            Shards.shuffle(members, rng);
            List<Integer> hs = holders.get(c);
            if (hs.isEmpty()) {
                continue; // more classes than devices * c: this class is not dealt
            }
            int[] sizes = Shards.equalSizes(members.size(), hs.size());
            int pos = 0;
            for (int i = 0; i < hs.size(); i++) {
                perDevice.get(hs.get(i)).addAll(members.subList(pos, pos + sizes[i]));
                pos += sizes[i];
            }
        }
        for (int d = 0; d < devices; d++) {
            if (perDevice.get(d).isEmpty()) {
                throw new IllegalArgumentException("device " + d + " received no examples; too many devices for the data");
            }
        }
        return Shards.toArrays(perDevice, rng);
    }

    @Override
    public String describe() {
        return "classes:" + classesPerDevice;
    }
}
