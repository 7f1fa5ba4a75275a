package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;

import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `splitfed privacy label-trial` on the tests' stories260K and a slice of SST-2: the U-shape without a label
 * defence trains what the standard shape trains (the same held-out accuracy) and its returned
 * gradients give the direction attack every label; under heavy label noise the attack is near a coin.
 * A tail of blocks kept on the device trains what the standard shape trains too, and even norms
 * leave the norm attack a coin.
 */
class PrivacyLabelTrialTest {

    private static final Pattern ROW = Pattern.compile("\\| (standard|U-shaped[^|]*) \\| ([^|]+) \\| ([^|]+) \\| ([^|]+) \\| ([^|]+) \\| [^|]+ \\| ([\\d.]+)% \\|");

    @Test
    void theUShapeHidesLabelsOnlyUnderLabelNoise() {
        CliRun run = CliRun.of("privacy", "label-trial", "--set", "splitfed.data-root=" + SharedData.root(),
                "--train-limit", "600", "--eval-limit", "64", "--samples", "320", "--noises", "0,8");
        assertThat(run.exit).as(run.err).isZero();
        Matcher m = ROW.matcher(run.out);
        String[][] rows = new String[3][];
        for (int i = 0; i < 3; i++) {
            assertThat(m.find()).as(run.out).isTrue();
            rows[i] = new String[] {m.group(1), m.group(2).trim(), m.group(3).trim(), m.group(4).trim(), m.group(5).trim(), m.group(6)};
        }
        assertThat(rows[0][0]).isEqualTo("standard");
        assertThat(Double.parseDouble(rows[1][5])).as("the U-shape without noise trains as the standard shape does")
                .isCloseTo(Double.parseDouble(rows[0][5]), org.assertj.core.api.Assertions.within(100.0 / 64 + 1e-6));
        assertThat(Double.parseDouble(rows[1][4])).as("direction attack, no defence").isGreaterThanOrEqualTo(0.99);
        assertThat(rows[2][1]).isEqualTo("label noise 8.00");
        assertThat(Double.parseDouble(rows[2][2].replace("%", ""))).as("signs flipped at tau 8").isBetween(35.0, 60.0);
        assertThat(Double.parseDouble(rows[2][4])).as("direction attack under label noise 8").isLessThan(0.7);
    }

    @Test
    void aTailOnTheDeviceTrainsTheSameAndEvenNormsBlindTheNormAttack() {
        CliRun run = CliRun.of("privacy", "label-trial", "--set", "splitfed.data-root=" + SharedData.root(),
                "--train-limit", "600", "--eval-limit", "64", "--samples", "320", "--noises", "0", "--even-norms", "--tails", "1");
        assertThat(run.exit).as(run.err).isZero();
        Matcher m = ROW.matcher(run.out);
        String[][] rows = new String[3][];
        for (int i = 0; i < 3; i++) {
            assertThat(m.find()).as(run.out).isTrue();
            rows[i] = new String[] {m.group(1).trim(), m.group(2).trim(), m.group(3).trim(), m.group(4).trim(), m.group(5).trim(), m.group(6)};
        }
        assertThat(rows[1][0]).isEqualTo("U-shaped, 1-block tail");
        assertThat(rows[1][1]).isEqualTo("none");
        assertThat(Double.parseDouble(rows[1][5])).as("the tail's blocks trained on the device, with the exact gradients: the standard shape's training")
                .isCloseTo(Double.parseDouble(rows[0][5]), org.assertj.core.api.Assertions.within(100.0 / 64 + 1e-6));
        assertThat(rows[2][1]).isEqualTo("even norms");
        assertThat(Double.parseDouble(rows[2][3])).as("norm attack when every norm is its batch's mean").isLessThan(0.56);
        CliRun tooLong = CliRun.of("privacy", "label-trial", "--set", "splitfed.data-root=" + SharedData.root(), "--train-limit", "600", "--eval-limit", "64",
                "--samples", "32", "--tails", "40");
        assertThat(tooLong.exit).isEqualTo(2);
        assertThat(tooLong.err).contains("--tails 40").contains("expected 0 to");
    }
}
