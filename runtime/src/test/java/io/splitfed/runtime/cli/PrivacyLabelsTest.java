package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `splitfed privacy labels` on the tests' stories260K and a slice of SST-2: it runs the job in the
 * standard shape and in the U-shape, both through the actors, and attacks what the U-shaped job's
 * shard got back. Without label noise the direction attack reads every label; under heavy noise it
 * is near a coin.
 */
class PrivacyLabelsTest {

    private static final Pattern ROW = Pattern.compile("\\| (standard|U-shaped[^|]*) \\| ([^|]+) \\| ([^|]+) \\| ([^|]+) \\| ([^|]+) \\| ([\\d.]+)% \\|");

    private static String[][] rows(CliRun run) {
        assertThat(run.exit).as(run.err).isZero();
        Matcher m = ROW.matcher(run.out);
        String[][] rows = new String[2][];
        for (int i = 0; i < 2; i++) {
            assertThat(m.find()).as(run.out).isTrue();
            rows[i] = new String[] {m.group(1).trim(), m.group(2).trim(), m.group(3).trim(), m.group(4).trim(), m.group(5).trim(), m.group(6)};
        }
        return rows;
    }

    private static CliRun labels(Path out, String noise, String floor, String tail) {
        return CliRun.of("privacy", "labels", "--set", "splitfed.data-root=" + SharedData.root(), "--train-limit", "400", "--eval-limit", "64",
                "--rounds", "2", "--label-noise", noise, "--norm-floor", floor, "--tail-blocks", tail, "--out", out.toString(), "--no-progress");
    }

    @Test
    void theJobsServerReadsEveryLabelFromItsReturnedGradientsUnlessTheDeviceNoisesThem(@TempDir Path out) {
        String[][] clean = rows(labels(out.resolve("clean"), "0", "0", "0"));
        assertThat(clean[0][0]).isEqualTo("standard");
        assertThat(clean[0][2]).isEqualTo("1.00 (computes the loss)");
        assertThat(clean[0][3]).isEqualTo("1.00");
        assertThat(clean[1][0]).isEqualTo("U-shaped, 0-block tail");
        assertThat(clean[1][1]).isEqualTo("none");
        assertThat(Double.parseDouble(clean[1][3])).as("direction attack on the job's gradients, no defence").isGreaterThanOrEqualTo(0.99);
        assertThat(Double.parseDouble(clean[1][4])).as("projection attack on the job's gradients, no defence").isGreaterThanOrEqualTo(0.99);
        assertThat(Files.isRegularFile(out.resolve("clean/u-shaped/metrics.json"))).isTrue();

        String[][] noisy = rows(labels(out.resolve("noisy"), "8", "2", "1"));
        assertThat(noisy[1][0]).isEqualTo("U-shaped, 1-block tail");
        assertThat(noisy[1][1]).isEqualTo("label noise 8.00, norm floor 2.00");
        assertThat(Double.parseDouble(noisy[1][3])).as("direction attack under label noise 8").isLessThan(0.7);
        assertThat(Double.parseDouble(noisy[1][4])).as("projection attack under label noise 8").isLessThan(0.7);
    }
}
