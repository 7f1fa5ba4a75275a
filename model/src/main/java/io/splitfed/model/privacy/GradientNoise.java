package io.splitfed.model.privacy;

import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import java.util.Random;

/**
 * A device's defence of its labels in a U-shaped split, where it holds the head and the loss and
 * sends the server only the gradient at the server's output. That gradient points one way for one
 * label and the other way for the other (Li et al., "Label Leakage and Protection in Two-party Split
 * Learning"), so each example's gradient is scaled by {@code 1 + tau * z}, z a standard normal drawn
 * from the device's secret and the example's id: unbiased over draws, and flipped in sign where z
 * falls below {@code -1/tau} (16% of examples at tau 1, 31% at 2, 40% at 4). The draw is the same whenever the example is sent, so a
 * server cannot average it away over epochs. {@code tau} 0 is no defence.
 *
 * <p>A gradient's norm says how confident the model is, which differs by label too (Li et al.'s
 * norm attack). With {@code evenNorms}, every example's gradient is first scaled to its
 * micro-batch's mean norm, so the norms the server sees are the batch's, whatever the label. That
 * is biased: a confident example pushes the server as hard as a wrong one.
 *
 * @param tau the scale's standard deviation
 * @param evenNorms scale each example's gradient to the micro-batch's mean norm first
 */
public record GradientNoise(double tau, boolean evenNorms) {

    public static final GradientNoise NONE = new GradientNoise(0);

    /** Noise alone, the norms as they are. */
    public GradientNoise(double tau) {
        this(tau, false);
    }

    public GradientNoise {
        if (!(tau >= 0) || Double.isInfinite(tau)) {
            throw new IllegalArgumentException("label noise must be a finite number, 0 or more, got " + tau);
        }
    }

    public boolean active() {
        return tau > 0 || evenNorms;
    }

    /** {@code gradient} ([rows, ...]) with row r scaled by its own draw, seeded by {@code rowSeeds[r]}, in the same encoding. */
    public TensorPayload apply(TensorPayload gradient, long[] rowSeeds) {
        if (!active()) {
            return gradient;
        }
        int[] shape = gradient.shape();
        if (rowSeeds.length != shape[0]) {
            throw new IllegalArgumentException(rowSeeds.length + " seeds for " + shape[0] + " rows");
        }
        float[] values = WireCodec.toFloats(gradient);
        int perRow = values.length / shape[0];
        double[] norms = evenNorms ? new double[shape[0]] : null;
        double mean = 0;
        for (int r = 0; evenNorms && r < shape[0]; r++) {
            double sq = 0;
            for (int i = r * perRow; i < (r + 1) * perRow; i++) {
                sq += (double) values[i] * values[i];
            }
            norms[r] = Math.sqrt(sq);
            mean += norms[r] / shape[0];
        }
        for (int r = 0; r < shape[0]; r++) {
            double even = evenNorms && norms[r] > 0 ? mean / norms[r] : 1;
            float scale = (float) (even * (1 + tau * new Random(rowSeeds[r]).nextGaussian()));
            for (int i = r * perRow; i < (r + 1) * perRow; i++) {
                values[i] *= scale;
            }
        }
        return WireCodec.encode(values, shape, gradient.encoding(), null);
    }

    @Override
    public String toString() {
        if (!active()) {
            return "none";
        }
        String noise = tau > 0 ? String.format(java.util.Locale.ROOT, "label noise %.3g", tau) : "";
        return evenNorms ? (noise.isEmpty() ? "even norms" : noise + ", even norms") : noise;
    }
}
