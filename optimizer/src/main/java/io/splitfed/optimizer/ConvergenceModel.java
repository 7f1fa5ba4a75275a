package io.splitfed.optimizer;

/**
 * Rounds to converge as a function of the LoRA rank and the bits on the wire:
 * {@code rounds(r, b) = (a + c / r^e) * q(b)}, with {@code q(b) = 1 + s / 2^b} for the
 * quantization noise. The defaults are a placeholder shape (more rank, fewer rounds, with
 * diminishing returns); fit a, c, e and s to measured runs with {@link #fit}.
 */
public record ConvergenceModel(double a, double c, double e, double s) {

    public static ConvergenceModel defaults() {
        return new ConvergenceModel(4, 16, 0.8, 64);
    }

    public double rounds(int rank, int bits) {
        return (a + c / Math.pow(rank, e)) * (1 + s / Math.pow(2, bits));
    }

    /**
     * Least squares over {@code (rank, rounds)} pairs measured at 32 bits for a, c and e: for each
     * exponent on a grid from 0.05 to 3, a and c by linear least squares in 1 / r^e; the exponent
     * with the smallest squared error wins.
     */
    public ConvergenceModel fitWithExponent(int[] ranks, double[] rounds) {
        ConvergenceModel best = null;
        double bestError = Double.POSITIVE_INFINITY;
        for (double exp = 0.05; exp <= 3.0 + 1e-9; exp += 0.05) {
            ConvergenceModel m = new ConvergenceModel(a, c, exp, s).fit(ranks, rounds);
            double err = m.squaredError(ranks, rounds);
            if (err < bestError) {
                bestError = err;
                best = m;
            }
        }
        return best;
    }

    /** Sum of squared differences between the model's rounds at 32 bits and the measured ones. */
    public double squaredError(int[] ranks, double[] rounds) {
        double sum = 0;
        for (int i = 0; i < ranks.length; i++) {
            double d = rounds(ranks[i], 32) - rounds[i];
            sum += d * d;
        }
        return sum;
    }

    /**
     * Least squares over {@code (rank, rounds)} pairs measured at 32 bits, for a and c at a fixed
     * exponent e (a linear fit in 1 / r^e).
     */
    public ConvergenceModel fit(int[] ranks, double[] rounds) {
        int n = ranks.length;
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < n; i++) {
            double x = 1 / Math.pow(ranks[i], e);
            sx += x;
            sy += rounds[i];
            sxx += x * x;
            sxy += x * rounds[i];
        }
        double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        double intercept = (sy - slope * sx) / n;
        return new ConvergenceModel(intercept, slope, e, s);
    }
}
