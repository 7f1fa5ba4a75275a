package io.splitfed.model.data.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * IID, one class per device, Dirichlet and quantity skew partition every row exactly once, seeded,
 * and bad specs are explained.
 */
class PartitionerTest {

    private static final int[] LABELS = labels(3000, 3, 1);

    private static int[] labels(int n, int classes, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            l[i] = rng.nextInt(classes);
        }
        return l;
    }

    private static void assertExactCover(int[][] parts, int n) {
        int[] seen = new int[n];
        for (int[] p : parts) {
            assertThat(p).isNotEmpty();
            for (int i : p) {
                seen[i]++;
            }
        }
        assertThat(Arrays.stream(seen).allMatch(c -> c == 1)).as("every example on exactly one device").isTrue();
    }

    private static long distinctLabels(int[] part) {
        return Arrays.stream(part).map(i -> LABELS[i]).distinct().count();
    }

    @Test
    void iidGivesEqualShardsWithEveryClass() {
        int[][] p = Partitioner.parse("iid").partition(LABELS, 8, 1);
        assertExactCover(p, LABELS.length);
        for (int[] part : p) {
            assertThat(part.length).isBetween(374, 376);
            assertThat(distinctLabels(part)).isEqualTo(3);
        }
    }

    @Test
    void oneClassPerDeviceIsExtremelyImbalanced() {
        int[][] p = Partitioner.parse("classes:1").partition(LABELS, 8, 1);
        assertExactCover(p, LABELS.length);
        for (int[] part : p) {
            assertThat(distinctLabels(part)).isEqualTo(1);
        }
        int[][] two = Partitioner.parse("classes:2").partition(LABELS, 6, 1);
        assertExactCover(two, LABELS.length);
        for (int[] part : two) {
            assertThat(distinctLabels(part)).isEqualTo(2);
        }
    }

    @Test
    void dirichletSkewGrowsAsAlphaShrinks() {
        double skewLow = meanMajorityShare(Partitioner.parse("dirichlet:0.1").partition(LABELS, 8, 3));
        double skewHigh = meanMajorityShare(Partitioner.parse("dirichlet:100").partition(LABELS, 8, 3));
        assertExactCover(Partitioner.parse("dirichlet:0.5").partition(LABELS, 8, 3), LABELS.length);
        assertThat(skewLow).isGreaterThan(0.7);
        assertThat(skewHigh).isLessThan(0.45);
    }

    private static double meanMajorityShare(int[][] parts) {
        double s = 0;
        for (int[] part : parts) {
            int[] counts = new int[3];
            for (int i : part) {
                counts[LABELS[i]]++;
            }
            s += Arrays.stream(counts).max().getAsInt() / (double) part.length;
        }
        return s / parts.length;
    }

    @Test
    void quantitySkewVariesShardSizesButNotLabels() {
        int[][] p = Partitioner.parse("quantity:0.3").partition(LABELS, 10, 5);
        assertExactCover(p, LABELS.length);
        int min = Arrays.stream(p).mapToInt(a -> a.length).min().getAsInt();
        int max = Arrays.stream(p).mapToInt(a -> a.length).max().getAsInt();
        assertThat(max).isGreaterThan(4 * Math.max(min, 1));
    }

    @Test
    void partitionsAreSeededAndBadSpecsAreExplained() {
        assertThat(Partitioner.parse("dirichlet:0.5").partition(LABELS, 4, 9)[2])
                .containsExactly(Partitioner.parse("dirichlet:0.5").partition(LABELS, 4, 9)[2]);
        assertThatThrownBy(() -> Partitioner.parse("zipf:2")).hasMessageContaining("expected iid, dirichlet:ALPHA, classes:C or quantity:ALPHA");
        assertThatThrownBy(() -> Partitioner.parse("classes:4").partition(LABELS, 2, 1)).hasMessageContaining("only 3");
    }
}
