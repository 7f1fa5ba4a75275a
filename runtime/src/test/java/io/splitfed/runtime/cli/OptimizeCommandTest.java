package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code splitfed optimize}: a written scenario read back gives the same plan, and a broken one is
 * named.
 */
class OptimizeCommandTest {

    @TempDir
    Path tmp;

    @Test
    void aWrittenScenarioReadBackGivesTheSamePlan() throws Exception {
        Path file = tmp.resolve("scenario.json");
        CliRun generated = CliRun.of("optimize", "--devices", "12", "--seed", "3", "--write-scenario", file.toString());
        assertThat(generated.exit).as(generated.err).isZero();
        assertThat(file).exists();
        CliRun read = CliRun.of("optimize", "--scenario", file.toString(), "--seed", "3");
        assertThat(read.exit).as(read.err).isZero();
        String planLine = generated.out.lines().filter(l -> l.startsWith("| optimised")).findFirst().orElseThrow();
        assertThat(read.out).contains(planLine);
        assertThat(read.out).contains("| equal bandwidth and power |").contains("| random allocation |");
    }

    @Test
    void aBrokenScenarioIsNamed() throws Exception {
        Path file = tmp.resolve("broken.json");
        Files.writeString(file, "{\"devices\": [], \"channel\": 3}");
        CliRun r = CliRun.of("optimize", "--scenario", file.toString());
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err).contains(file.toString());
    }
}
