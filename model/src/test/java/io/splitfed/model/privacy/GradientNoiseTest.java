package io.splitfed.model.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import org.junit.jupiter.api.Test;

/**
 * The label defence of a U-shaped split on its own: each row of a returned gradient is scaled by one
 * draw, fixed by its seed, whose mean is 1 and whose sign flips on the share a normal gives; no
 * defence returns the gradient untouched.
 */
class GradientNoiseTest {

    @Test
    void eachRowIsScaledByOneUnbiasedDrawThatItsSeedFixes() {
        int rows = 20_000;
        int perRow = 6;
        float[] g = new float[rows * perRow];
        java.util.Arrays.fill(g, 1f);
        long[] seeds = CutNoise.rowSeeds(99, java.util.stream.LongStream.range(0, rows).toArray());
        TensorPayload clean = WireCodec.encode(g, new int[] {rows, 2, 3}, TensorPayload.Encoding.F32, null);
        GradientNoise noise = new GradientNoise(2);
        float[] out = WireCodec.toFloats(noise.apply(clean, seeds));
        double sum = 0;
        int negative = 0;
        for (int r = 0; r < rows; r++) {
            for (int i = 1; i < perRow; i++) {
                assertThat(out[r * perRow + i]).as("one scale per row").isEqualTo(out[r * perRow]);
            }
            sum += out[r * perRow];
            negative += out[r * perRow] < 0 ? 1 : 0;
        }
        assertThat(sum / rows).as("mean scale").isCloseTo(1.0, within(0.05));
        assertThat((double) negative / rows).as("signs flipped: Phi(-1/2)").isCloseTo(0.3085, within(0.015));
        assertThat(WireCodec.toFloats(noise.apply(clean, seeds))).as("the same seeds, the same release").containsExactly(out);
        assertThat(GradientNoise.NONE.apply(clean, seeds)).isSameAs(clean);
        assertThatThrownBy(() -> new GradientNoise(-1)).hasMessageContaining("label noise");
    }

    @Test
    void evenNormsGiveEveryRowTheBatchsMeanNormAndKeepItsDirection() {
        // three rows of norms 1, 2 and 6 (mean 3), one of them zero-free and pointing its own way
        float[] g = {0.6f, 0.8f, 0, 2, -6, 0};
        TensorPayload clean = WireCodec.encode(g, new int[] {3, 2}, TensorPayload.Encoding.F32, null);
        float[] out = WireCodec.toFloats(new GradientNoise(0, true).apply(clean, new long[] {1, 2, 3}));
        assertThat(out).containsExactly(new float[] {1.8f, 2.4f, 0, 3, -3, 0}, within(1e-5f));
        assertThat(new GradientNoise(0, true).active()).isTrue();
        assertThat(new GradientNoise(2, true)).hasToString("label noise 2.00, even norms");
    }
}
