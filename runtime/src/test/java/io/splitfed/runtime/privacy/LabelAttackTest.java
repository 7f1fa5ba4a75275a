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

    private static float[] scaled(float[] v, double by) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] * by);
        }
        return out;
    }
}
