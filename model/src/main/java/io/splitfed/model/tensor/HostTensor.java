package io.splitfed.model.tensor;

import java.util.Arrays;

/**
 * An fp32 tensor on the Java heap: adapters, optimizer state and checkpoints live in these, so that
 * nothing outside the model module needs an engine. Row-major; {@code data} is owned, not copied.
 */
public record HostTensor(int[] shape, float[] data) {

    public HostTensor {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    public static HostTensor zeros(int... shape) {
        return new HostTensor(shape.clone(), new float[Math.toIntExact(numel(shape))]);
    }

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n *= d;
        }
        return n;
    }

    public int size() {
        return data.length;
    }

    public HostTensor copy() {
        return new HostTensor(shape.clone(), data.clone());
    }

    public boolean sameShape(HostTensor other) {
        return Arrays.equals(shape, other.shape);
    }

    /** Sum of squares of all values, in double precision. */
    public double squaredNorm() {
        double s = 0;
        for (float v : data) {
            s += (double) v * v;
        }
        return s;
    }

    public boolean allFinite() {
        for (float v : data) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "HostTensor" + Arrays.toString(shape);
    }
}
