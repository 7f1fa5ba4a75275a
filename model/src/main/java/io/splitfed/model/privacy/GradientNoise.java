package io.splitfed.model.privacy;

import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
 * norm attack), and norms span orders of magnitude, so a random scale hardly reorders them. Two
 * answers:
 * <ul>
 *   <li>{@code normFloor} f adds, along each example's own gradient, a second draw of f times the
 *       micro-batch's mean norm: row r is scaled by {@code 1 + tau * z1 + f * (mean / |g_r|) * z2}.
 *       Still unbiased. A confident example's small gradient drowns in a draw whose size is the
 *       batch's, whatever its label, so its norm says nothing and its sign is a coin; a large one
 *       (a wrong prediction) keeps its own. The added variance is f² times the squared mean norm,
 *       far below tau's share where norms are spread, because tau scales the large ones.
 *   <li>{@code evenNorms} scales every example's gradient to its micro-batch's mean norm first, so
 *       the norms the server sees are the batch's, whatever the label. That is biased: a confident
 *       example pushes the server as hard as a wrong one.
 * </ul>
 *
 * @param tau the scale's standard deviation
 * @param evenNorms scale each example's gradient to the micro-batch's mean norm first
 * @param normFloor the size of the added draw, as a multiple of the micro-batch's mean norm
 */
public record GradientNoise(double tau, boolean evenNorms, double normFloor) {

    public static final GradientNoise NONE = new GradientNoise(0);

    /** Noise alone, the norms as they are. */
    public GradientNoise(double tau) {
        this(tau, false, 0);
    }

    public GradientNoise(double tau, boolean evenNorms) {
        this(tau, evenNorms, 0);
    }

    public GradientNoise {
        if (!(tau >= 0) || Double.isInfinite(tau)) {
            throw new IllegalArgumentException("label noise must be a finite number, 0 or more, got " + tau);
        }
        if (!(normFloor >= 0) || Double.isInfinite(normFloor)) {
            throw new IllegalArgumentException("the label noise's norm floor must be a finite number, 0 or more, got " + normFloor);
        }
    }

    public boolean active() {
        return tau > 0 || evenNorms || normFloor > 0;
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
        boolean needNorms = evenNorms || normFloor > 0;
        double[] norms = needNorms ? new double[shape[0]] : null;
        double mean = 0;
        for (int r = 0; needNorms && r < shape[0]; r++) {
            double sq = 0;
            for (int i = r * perRow; i < (r + 1) * perRow; i++) {
                sq += (double) values[i] * values[i];
            }
            norms[r] = Math.sqrt(sq);
            mean += norms[r] / shape[0];
        }
        for (int r = 0; r < shape[0]; r++) {
            double even = evenNorms && norms[r] > 0 ? mean / norms[r] : 1;
            Random draw = new Random(rowSeeds[r]);
            double z1 = draw.nextGaussian();
            double floor = normFloor > 0 && norms[r] > 0 ? normFloor * (evenNorms ? 1 : mean / norms[r]) * draw.nextGaussian() : 0;
            float scale = (float) (even * (1 + tau * z1 + floor));
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
        List<String> parts = new ArrayList<>();
        if (tau > 0) {
            parts.add(String.format(Locale.ROOT, "label noise %.3g", tau));
        }
        if (normFloor > 0) {
            parts.add(String.format(Locale.ROOT, "norm floor %.3g", normFloor));
        }
        if (evenNorms) {
            parts.add("even norms");
        }
        return String.join(", ", parts);
    }
}
