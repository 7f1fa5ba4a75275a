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
 * {@code splitfed train --calibrate}: the host's speed is measured on the job's model, and the
 * job's compute steps come out modelled at that speed beside their measured seconds, in the summary
 * and in {@code metrics.json}'s {@code emulated.calibration}. The modelled seconds are the job's own
 * counted FLOPs over the measured speeds (forward for a SplitFrozen device's steps, half forward and
 * half training for an SFL device's, training for a shard's), and the measured ones the job's own
 * compute seconds: both are recomputed here from the rest of {@code metrics.json}. How close the
 * two come is measured, not asserted (no test asserts wall-clock time); docs/cost-model.md has it.
 */
class CalibrateCommandTest {

    @TempDir
    Path tmp;

    @Test
    void splitFrozenStepsAreModelledAsForwardOnTheDeviceAndTrainingOnTheServer() throws Exception {
        JsonNode m = train("splitfrozen", true);
        JsonNode c = m.at("/emulated/calibration");
        JsonNode t = m.get("totals");
        double forward = c.at("/host/forward_gflops").asDouble() * 1e9;
        double training = c.at("/host/train_gflops").asDouble() * 1e9;
        assertThat(forward).as("forward FLOP/s measured").isFinite().isPositive();
        assertThat(training).as("training FLOP/s measured").isFinite().isPositive();
        assertThat(c.at("/host/probe_seconds").asDouble()).isPositive();
        assertThat(t.get("deviceFlops").asDouble()).as("device FLOPs counted").isPositive();
        assertThat(c.at("/device/modelled_seconds").asDouble()).isCloseTo(t.get("deviceFlops").asDouble() / forward, within(1e-9));
        assertThat(c.at("/server/modelled_seconds").asDouble()).isCloseTo(t.get("serverFlops").asDouble() / training, within(1e-9));
        assertThat(c.at("/device/measured_seconds").asDouble()).isEqualTo(t.get("deviceComputeSeconds").asDouble());
        assertThat(c.at("/server/measured_seconds").asDouble()).isEqualTo(t.get("serverComputeSeconds").asDouble());
        assertThat(c.get("modelled_seconds").asDouble()).isCloseTo(c.at("/device/modelled_seconds").asDouble() + c.at("/server/modelled_seconds").asDouble(),
                within(1e-9));
        assertThat(c.get("measured_seconds").asDouble()).isCloseTo(t.get("deviceComputeSeconds").asDouble() + t.get("serverComputeSeconds").asDouble(),
                within(1e-9));
        assertThat(c.get("ratio").asDouble()).isCloseTo(c.get("modelled_seconds").asDouble() / c.get("measured_seconds").asDouble(), within(1e-9));
    }

    @Test
    void anSflDevicesFlopsAreHalfForwardHalfTrainingAndWithoutTheFlagNothingIsMeasured() throws Exception {
        JsonNode m = train("sfl", true);
        JsonNode c = m.at("/emulated/calibration");
        double forward = c.at("/host/forward_gflops").asDouble() * 1e9;
        double training = c.at("/host/train_gflops").asDouble() * 1e9;
        double deviceFlops = m.at("/totals/deviceFlops").asDouble();
        assertThat(c.at("/device/modelled_seconds").asDouble()).isCloseTo(deviceFlops / 2 / forward + deviceFlops / 2 / training, within(1e-9));

        assertThat(train("sfl", false).has("emulated")).as("metrics.json without --calibrate").isFalse();
    }

    private JsonNode train(String mode, boolean calibrate) throws Exception {
        Path out = tmp.resolve(mode + (calibrate ? "-calibrated" : ""));
        // the main job's model (MiniLM), small
        List<String> args = new ArrayList<>(List.of("train", "--mode", mode, "--devices", "2", "--rounds", "2", "--epochs", "2", "--train-limit", "256",
                "--eval-limit", "32", "--max-length", "32", "--micro-batch", "16", "--no-progress", "--out", out.toString(),
                "--set", "splitfed.data-root=" + SharedData.root(), "--set", "splitfed.job.cost-model.probe=500ms"));
        if (calibrate) {
            args.add("--calibrate");
        }
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertThat(r.exit).as(r.err).isZero();
        if (calibrate) {
            assertThat(r.out).as(r.out).containsPattern("cost model: compute modelled [0-9.]+ s \\(device [0-9.]+, server [0-9.]+\\) against [0-9.]+ s measured");
        } else {
            assertThat(r.out).doesNotContain("cost model:");
        }
        return new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
    }
}
