package io.splitfed.optimizer;

/**
 * Rounds to converge as a function of the LoRA rank and the bits on the wire:
 * {@code rounds(r, b) = (a + c / r^e) * q(b)}, with {@code q(b) = 1 + s / 2^b} for the
 * quantization noise. {@link #fitWithExponent} fits a, c and e to measured runs.
 *
 * <p>The defaults are that fit to {@code splitfed experiment convergence} (SplitFrozen, SST-2,
 * stories260K; docs/results/convergence.md): rank 2 needs about 7.6 rounds to reach 90% of the best
 * accuracy, rank 4 and above about 6.1 to 6.3, and rank 1 did not get there in 12. The exponent
 * sits at the top of the fitted range: past rank 4 more rank buys nothing on this task. The bits
 * term is small ({@code s = 4}): at 8 bits accuracy stayed within run-to-run noise, at 4 bits it
 * lost about 1.5 points (docs/results/quantization.md).
 */
public record ConvergenceModel(double a, double c, double e, double s) {

    public static ConvergenceModel defaults() {
        return new ConvergenceModel(6.115, 12.202, 3.0, 4);
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
