package io.splitfed.model.data.partition;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded arithmetic shared by the partitioners and the stratified split. */
public final class Shards {

    private Shards() {}

    public static void requireDevices(int devices, int examples) {
        if (devices < 1) {
            throw new IllegalArgumentException("need at least one device, got " + devices);
        }
        if (examples < devices) {
            throw new IllegalArgumentException(examples + " examples cannot give each of " + devices + " devices one");
        }
    }

    public static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        shuffle(p, rng);
        return p;
    }

    public static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    public static int[] equalSizes(int n, int parts) {
        int[] sizes = new int[parts];
        for (int i = 0; i < parts; i++) {
            sizes[i] = n / parts + (i < n % parts ? 1 : 0);
        }
        return sizes;
    }

    public static int[][] deal(int[] order, int[] sizes) {
        int[][] out = new int[sizes.length][];
        int pos = 0;
        for (int d = 0; d < sizes.length; d++) {
            out[d] = java.util.Arrays.copyOfRange(order, pos, pos + sizes[d]);
            pos += sizes[d];
        }
        return out;
    }

    /** Indices grouped by label; with {@code allowUnlabelled}, label -1 forms one more group. */
    public static List<List<Integer>> byClass(int[] labels, boolean allowUnlabelled) {
        int max = -1;
        boolean unlabelled = false;
        for (int l : labels) {
            if (l < 0 && !allowUnlabelled) {
                throw new IllegalArgumentException("label-skew partitions need labelled data; found label " + l);
            }
            unlabelled |= l < 0;
            max = Math.max(max, l);
        }
        List<List<Integer>> groups = new ArrayList<>();
        for (int c = 0; c <= max + (unlabelled ? 1 : 0); c++) {
            groups.add(new ArrayList<>());
        }
        for (int i = 0; i < labels.length; i++) {
            groups.get(labels[i] < 0 ? max + 1 : labels[i]).add(i);
        }
        return groups;
    }

    public static <T> void shuffle(List<T> list, SplittableRandom rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            T t = list.get(i);
            list.set(i, list.get(j));
            list.set(j, t);
        }
    }

    public static int[] toArray(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    public static int[][] toArrays(List<List<Integer>> perDevice, SplittableRandom rng) {
        int[][] out = new int[perDevice.size()][];
        for (int d = 0; d < out.length; d++) {
            out[d] = perDevice.get(d).stream().mapToInt(Integer::intValue).toArray();
            shuffle(out[d], rng);
        }
        return out;
    }

    private static double gamma(double shape, SplittableRandom rng) {
        if (shape < 1) {
            return gamma(shape + 1, rng) * Math.pow(rng.nextDouble(), 1.0 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                double u1 = rng.nextDouble();
                double u2 = rng.nextDouble();
                x = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rng.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    public static double[] dirichlet(double alpha, int n, SplittableRandom rng) {
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = gamma(alpha, rng);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] = sum == 0 ? 1.0 / n : p[i] / sum;
        }
        return p;
    }

    /** Splits {@code count} into parts proportional to {@code p} (largest remainder). */
    public static int[] apportion(int count, double[] p) {
        int[] out = new int[p.length];
        double[] rem = new double[p.length];
        int given = 0;
        for (int i = 0; i < p.length; i++) {
            double exact = count * p[i];
            out[i] = (int) Math.floor(exact);
            rem[i] = exact - out[i];
            given += out[i];
        }
        while (given < count) {
            int best = 0;
            for (int i = 1; i < p.length; i++) {
                if (rem[i] > rem[best]) {
                    best = i;
                }
            }
            out[best]++;
            rem[best] = -1;
            given++;
        }
        return out;
    }
}
