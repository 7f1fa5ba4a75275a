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
    void aNormFloorDrownsSmallGradientsInADrawTheSizeOfTheBatchsMeanNormAndStaysUnbiased() {
        // half the rows are confident (norm 0.01), half wrong (norm 10): the batch's mean norm is 5.005
        int rows = 20_000;
        float[] g = new float[rows * 2];
        for (int r = 0; r < rows; r++) {
            g[r * 2] = r % 2 == 0 ? 0.01f : 10f;
        }
        long[] seeds = CutNoise.rowSeeds(7, java.util.stream.LongStream.range(0, rows).toArray());
        TensorPayload clean = WireCodec.encode(g, new int[] {rows, 2}, TensorPayload.Encoding.F32, null);
        float[] out = WireCodec.toFloats(new GradientNoise(1, false, 1).apply(clean, seeds));
        double smallSum = 0;
        double smallAbs = 0;
        int smallFlipped = 0;
        double largeSum = 0;
        int largeFlipped = 0;
        for (int r = 0; r < rows; r++) {
            assertThat(out[r * 2 + 1]).as("along the row's own gradient").isZero();
            if (r % 2 == 0) {
                smallSum += out[r * 2];
                smallAbs += Math.abs(out[r * 2]);
                smallFlipped += out[r * 2] < 0 ? 1 : 0;
            } else {
                largeSum += out[r * 2];
                largeFlipped += out[r * 2] < 0 ? 1 : 0;
            }
        }
        int half = rows / 2;
        assertThat(largeSum / half).as("a large gradient's mean: unbiased").isCloseTo(10, within(0.3));
        assertThat(smallAbs / half).as("a small gradient's size is the draw's: 5.005 E|z|").isCloseTo(5.005 * Math.sqrt(2 / Math.PI), within(0.15));
        assertThat(smallSum / half).as("and its mean is still its own, near 0").isCloseTo(0.01, within(0.15));
        assertThat((double) smallFlipped / half).as("a small gradient's sign is a coin").isCloseTo(0.5, within(0.02));
        // a large one: 10 (1 + z1) + 5.005 z2 < 0 when a normal of sd sqrt(100 + 25.05) falls below -10
        assertThat((double) largeFlipped / half).as("a large gradient's sign flips as its own noise says").isCloseTo(0.186, within(0.015));
        assertThat(new GradientNoise(2, false, 1)).hasToString("label noise 2.00, norm floor 1.00");
        assertThat(new GradientNoise(0, false, 1).active()).isTrue();
        assertThatThrownBy(() -> new GradientNoise(1, false, -1)).hasMessageContaining("norm floor");
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
