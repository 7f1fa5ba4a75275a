package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.splitfed.model.testing.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code splitfed train --fleet}: the summary and {@code metrics.json} report the job in the
 * fleet's time, round by round, with time to each accuracy target and the devices' energy. How a
 * round is priced is {@code EmulatedTimeTest}'s; here, that the job's real rounds reach the
 * reports and that the reports agree with themselves.
 */
class FleetCommandTest {

    @TempDir
    Path tmp;

    @Test
    void aPhoneFleetReportsEachRoundsEmulatedTimeAndTheTimeToEachTarget() throws Exception {
        CliRun r = train("phones", "--rounds", "3");
        assertThat(r.out).contains("emulated on phones (built-in fleet phones: [phone-mid], server a100)").contains("time to accuracy:  0.80 ");
        JsonNode e = metrics("phones").get("emulated");
        JsonNode rounds = e.get("rounds");
        assertThat(rounds).hasSize(3);
        double clock = 0;
        for (JsonNode round : rounds) {
            // each round's device work goes over LTE: seconds, not the host's milliseconds
            assertThat(round.get("seconds").asDouble()).as("round %s", round.get("round")).isGreaterThan(1);
            clock += round.get("seconds").asDouble();
            assertThat(round.get("end_seconds").asDouble()).isCloseTo(clock, within(1e-9));
            assertThat(round.get("device_joules").asDouble()).isPositive();
        }
        assertThat(e.get("seconds").asDouble()).isCloseTo(clock, within(1e-9));
        for (String target : List.of("0.80", "0.85", "0.90")) {
            JsonNode first = null;
            for (JsonNode round : rounds) {
                if (round.get("accuracy").asDouble() >= Double.parseDouble(target)) {
                    first = round;
                    break;
                }
            }
            assertThat(e.get("time_to_accuracy").has(target)).as(target).isTrue();
            if (first == null) {
                assertThat(e.get("time_to_accuracy").get(target).isNull()).as(target + " not reached").isTrue();
            } else {
                assertThat(e.get("time_to_accuracy").get(target).asDouble()).as(target).isEqualTo(first.get("end_seconds").asDouble());
            }
        }
    }

    @Test
    void theHostFleetIsThisMachineMeasuredAndCalibrated() throws Exception {
        CliRun r = train("host", "--rounds", "2");
        assertThat(r.out).contains("emulated on host (this host, measured:").contains("cost model: compute modelled");
        JsonNode e = metrics("host").get("emulated");
        assertThat(e.get("rounds")).hasSize(2);
        assertThat(e.has("calibration")).as("the host fleet measures the host as --calibrate does").isTrue();
        assertThat(e.get("seconds").asDouble()).isPositive();
        // no links: a round is its compute, which the measured speeds make about what the host took
        assertThat(e.get("seconds").asDouble()).isLessThan(metrics("host").get("wall_seconds").asDouble() * 3);
    }

    private CliRun train(String fleet, String... more) {
        Path out = tmp.resolve(fleet);
        List<String> args = new ArrayList<>(List.of("train", "--devices", "2", "--epochs", "2", "--train-limit", "256", "--eval-limit", "64",
                "--max-length", "32", "--micro-batch", "16", "--no-progress", "--out", out.toString(), "--fleet", fleet,
                "--set", "splitfed.data-root=" + SharedData.root(), "--set", "splitfed.job.cost-model.probe=500ms"));
        args.addAll(List.of(more));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertThat(r.exit).as(r.err).isZero();
        return r;
    }

    private JsonNode metrics(String fleet) throws Exception {
        return new ObjectMapper().readTree(tmp.resolve(fleet).resolve("metrics.json").toFile());
    }
}
