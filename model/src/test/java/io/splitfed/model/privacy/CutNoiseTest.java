package io.splitfed.model.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * The defence on the cut, on its own: clipping bounds every token's vector to the clip norm, the
 * noise has the standard deviation the setting names, a row's draws are fixed by its seed, and a
 * setting that cannot work is refused naming its keys. Also ROUGE-L and the scoring of an attack.
 */
class CutNoiseTest {

    @Test
    void clippingBoundsEachVectorAndTheNoiseHasTheNamedSpread() {
        Random data = new Random(1);
        int hidden = 64;
        float[] v = new float[2_000 * hidden];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (data.nextGaussian() * 3);
        }
        float[] clipped = v.clone();
        new CutNoise(5, 0).apply(clipped, hidden, new Random(2));
        for (int s = 0; s < v.length; s += hidden) {
            double norm = 0;
            for (int i = s; i < s + hidden; i++) {
                norm += clipped[i] * clipped[i];
            }
            assertThat(Math.sqrt(norm)).isLessThanOrEqualTo(5.0001);
        }
        float[] noisy = clipped.clone();
        new CutNoise(5, 0.4).apply(noisy, hidden, new Random(3));
        double sum = 0;
        double sq = 0;
        for (int i = 0; i < v.length; i++) {
            double d = noisy[i] - clipped[i];
            sum += d;
            sq += d * d;
        }
        double mean = sum / v.length;
        assertThat(Math.sqrt(sq / v.length - mean * mean)).as("sigma x clip").isCloseTo(2.0, org.assertj.core.data.Offset.offset(0.02));
        assertThat(mean).isCloseTo(0, org.assertj.core.data.Offset.offset(0.02));
    }

    @Test
    void aRowsDrawsAreFixedByItsSeedAndNoDefenceChangesNothing() {
        float[] values = new float[2 * 3 * 4];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.1f;
        }
        TensorPayload p = WireCodec.f32(values, 2, 3, 4);
        CutNoise noise = new CutNoise(1, 0.5);
        long[] seeds = CutNoise.rowSeeds(42, new long[] {7, 8});
        assertThat(noise.apply(p, seeds)).isEqualTo(noise.apply(p, seeds));
        assertThat(noise.apply(p, CutNoise.rowSeeds(43, new long[] {7, 8}))).as("another device's salt").isNotEqualTo(noise.apply(p, seeds));
        float[] swapped = WireCodec.toFloats(noise.apply(p, CutNoise.rowSeeds(42, new long[] {8, 7})));
        float[] first = WireCodec.toFloats(noise.apply(p, seeds));
        assertThat(swapped[0]).as("the draws follow the example, not its place in the batch").isNotEqualTo(first[0]);
        assertThat(CutNoise.NONE.apply(p, seeds)).isSameAs(p);
        assertThat(noise.epsilon(1e-5)).isCloseTo(2 * Math.sqrt(2 * Math.log(1.25e5)) / 0.5, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void noiseWithoutAClipIsRefusedNamingTheSettings() {
        assertThatThrownBy(() -> new CutNoise(0, 0.3)).hasMessageContaining("privacy.noise-sigma").hasMessageContaining("privacy.clip");
        assertThatThrownBy(() -> new CutNoise(-1, 0)).hasMessageContaining("privacy.clip");
    }

    @Test
    void recoveryCountsRealTokensOnlyAndRougeLIsTheLongestCommonSubsequencesF1() {
        assertThat(Recovery.rougeL(new int[] {1, 2, 3, 4}, new int[] {1, 3, 4, 9})).isCloseTo(0.75, org.assertj.core.data.Offset.offset(1e-12));
        int[][] truth = {{101, 5, 6, 102, 0}, {101, 7, 102, 0, 0}};
        int[][] guess = {{0, 5, 9, 0, 0}, {0, 7, 0, 0, 0}};
        boolean[][] real = {{false, true, true, false, false}, {false, true, false, false, false}};
        Recovery r = Recovery.score(truth, guess, real, 6);
        assertThat(r.tokens()).isEqualTo(3);
        assertThat(r.recovered()).isEqualTo(2);
        assertThat(r.exactSentences()).isEqualTo(1);
        assertThat(r.priorRecovered()).isEqualTo(1);
        assertThat(Recovery.mostCommon(truth, real)).isIn(5, 6, 7);
    }
}
