package io.splitfed.model.privacy;

import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import java.util.Random;

/**
 * The defence on the cut: each token's activation vector is clipped to L2 norm {@code clip}, then
 * Gaussian noise of standard deviation {@code sigma * clip} is added to every coordinate, on the
 * device, before anything leaves it. {@code clip} 0 is no defence. The mechanism and its two
 * numbers are public (an attacker knows them); the draws are the device's.
 *
 * @param clip C, the largest L2 norm a token's vector keeps; 0: none
 * @param sigma the noise's standard deviation, as a multiple of {@code clip}
 */
public record CutNoise(double clip, double sigma) {

    public static final CutNoise NONE = new CutNoise(0, 0);

    public CutNoise {
        if (!(clip >= 0) || !(sigma >= 0)) {
            throw new IllegalArgumentException("privacy.clip and privacy.noise-sigma must be 0 or more, got " + clip + " and " + sigma);
        }
        if (sigma > 0 && clip == 0) {
            throw new IllegalArgumentException("privacy.noise-sigma " + sigma + " needs privacy.clip > 0: the noise is a multiple of the clip norm");
        }
    }

    public boolean active() {
        return clip > 0;
    }

    /** Clips and noises {@code values} in place, one vector of {@code hidden} coordinates at a time, drawing from {@code rng}. */
    public void apply(float[] values, int hidden, Random rng) {
        apply(values, 0, values.length, hidden, rng);
    }

    /** As {@link #apply(float[], int, Random)}, on {@code values[from, to)} alone. */
    private void apply(float[] values, int from, int to, int hidden, Random rng) {
        if (!active()) {
            return;
        }
        double std = sigma * clip;
        for (int start = from; start < to; start += hidden) {
            double norm = 0;
            for (int i = start; i < start + hidden; i++) {
                norm += (double) values[i] * values[i];
            }
            norm = Math.sqrt(norm);
            double scale = norm > clip ? clip / norm : 1.0;
            for (int i = start; i < start + hidden; i++) {
                values[i] = (float) (values[i] * scale + (std > 0 ? std * rng.nextGaussian() : 0));
            }
        }
    }

    /**
     * {@code activations} ([rows, ..., hidden]) clipped and noised, in the same encoding; row r's
     * draws are seeded by {@code rowSeeds[r]}, so an example seeded the same way is released the
     * same way every time it is sent (no attacker can average fresh draws).
     */
    public TensorPayload apply(TensorPayload activations, long[] rowSeeds) {
        if (!active()) {
            return activations;
        }
        int[] shape = activations.shape();
        if (rowSeeds.length != shape[0]) {
            throw new IllegalArgumentException(rowSeeds.length + " seeds for " + shape[0] + " rows");
        }
        float[] values = WireCodec.toFloats(activations);
        int perRow = values.length / shape[0];
        for (int r = 0; r < shape[0]; r++) {
            apply(values, r * perRow, (r + 1) * perRow, shape[shape.length - 1], new Random(rowSeeds[r]));
        }
        return WireCodec.encode(values, shape, activations.encoding(), null);
    }

    /** Row seeds for {@code sampleIds} from a device's secret {@code salt}: each example's draws are its own, and the same every time. */
    public static long[] rowSeeds(long salt, long[] sampleIds) {
        long[] seeds = new long[sampleIds.length];
        for (int r = 0; r < seeds.length; r++) {
            seeds[r] = new java.util.SplittableRandom(salt ^ (sampleIds[r] * 0x9E3779B97F4A7C15L)).nextLong();
        }
        return seeds;
    }

    /**
     * The ε of the classic Gaussian mechanism for one release of one token's vector at {@code delta}:
     * two inputs' clipped vectors differ by at most 2C in L2, so ε = 2 sqrt(2 ln(1.25/δ)) / σ. The
     * bound is proven for ε below 1 only, covers a single vector (a sentence is many, and a resend
     * from the activation cache is the same release), and says nothing about what an attacker with a
     * prior over language recovers; the attacks measure that. Infinite without noise.
     */
    public double epsilon(double delta) {
        return sigma > 0 ? 2 * Math.sqrt(2 * Math.log(1.25 / delta)) / sigma : Double.POSITIVE_INFINITY;
    }

    @Override
    public String toString() {
        return active() ? String.format("clip %.3g, noise %.3g x clip", clip, sigma) : "none";
    }
}
