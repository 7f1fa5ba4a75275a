package io.splitfed.runtime.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The label attacks' scoring on gradients whose answer is known: AUC by ranks with ties counted
 * half; gradients of a binary head that point one way per label give the direction attack every
 * label, and the same gradients with random signs give it a coin.
 */
class LabelAttackTest {

    @Test
    void aucCountsOrderedPairsAndHalvesTies() {
        assertThat(LabelAttack.auc(new double[] {0.1, 0.4, 0.35, 0.8}, new int[] {0, 0, 1, 1})).isEqualTo(0.75);
        assertThat(LabelAttack.auc(new double[] {1, 1, 1, 1}, new int[] {0, 1, 0, 1})).isEqualTo(0.5);
        assertThat(LabelAttack.auc(new double[] {3, 2, 1}, new int[] {1, 1, 0})).isEqualTo(1.0);
        assertThat(LabelAttack.auc(new double[] {3, 2}, new int[] {1, 1})).isNaN();
    }

    @Test
    void theDirectionAttackReadsSignedGradientsAndNotRandomlySignedOnes() {
        Random rng = new Random(7);
        float[] v = new float[32];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        List<LabelAttack.Observed> plain = new ArrayList<>();
        List<LabelAttack.Observed> flipped = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            int label = rng.nextInt(2);
            double residual = (label == 1 ? -1 : 1) * (0.05 + 0.9 * rng.nextDouble()); // p - y: its sign is the label's
            double coin = rng.nextBoolean() ? 1 : -1;
            plain.add(new LabelAttack.Observed(scaled(v, residual), label, i / 16));
            flipped.add(new LabelAttack.Observed(scaled(v, residual * coin), label, i / 16));
        }
        assertThat(LabelAttack.run(plain).directionAuc()).isEqualTo(1.0);
        assertThat(LabelAttack.run(flipped).directionAuc()).isCloseTo(0.5, within(0.05));
        assertThat(LabelAttack.run(flipped).normAuc()).as("the norms carry no sign").isCloseTo(0.5, within(0.05));
    }

    @Test
    void theProjectionAttackTrustsTheLargeGradientsWhoseSignsHold() {
        Random rng = new Random(11);
        float[] v = {1, 0, 0, 0}; // one direction, so that every cosine is exactly +1 or -1
        List<LabelAttack.Observed> seen = new ArrayList<>();
        for (int i = 0; i < 4_000; i++) {
            int label = rng.nextInt(2);
            boolean large = i % 16 == 0 || rng.nextBoolean(); // each batch's first, the example whose label the server knows, is large
            double residual = (label == 1 ? -1 : 1) * 10;
            // a small gradient drowns in noise of the batch's size, whose sign is a coin; a large one keeps its own
            double noisy = large ? residual : (rng.nextBoolean() ? 1 : -1) * (0.01 + Math.abs(rng.nextGaussian()));
            seen.add(new LabelAttack.Observed(scaled(v, noisy), label, i / 16));
        }
        LabelAttack.Result r = LabelAttack.run(seen);
        // the cosine is +1 or -1: right for every large example and for half the drowned, so 3/4 of the time
        assertThat(r.directionAuc()).isCloseTo(0.75, within(0.03));
        // the projection puts the large at the ends and the drowned, a coin, in the middle: wrong only between two drowned
        assertThat(r.projectionAuc()).isCloseTo(0.875, within(0.03));
        assertThat(r.bestAuc()).isEqualTo(r.projectionAuc());
    }

    private static float[] scaled(float[] v, double by) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] * by);
        }
        return out;
    }
}
