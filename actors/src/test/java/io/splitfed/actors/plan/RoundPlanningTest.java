package io.splitfed.actors.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.testing.TestJobs;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** The coordinator asks its planner every round, and devices take the plan up without a restart. */
class RoundPlanningTest {

    /** Round 0 as configured; round 1 moves the cut, halves the micro-batch and sends 8 bits. */
    @Test
    void devicesApplyEachRoundsPlan() throws Exception {
        Config config = TestJobs.config(Map.of("mode", "splitfrozen", "pipeline.activation-cache", false, "federation.rounds", 2,
                "federation.epochs", 2, "federation.split-points", "1"));
        Map<Integer, Map<Integer, DeviceProfile>> seen = new ConcurrentHashMap<>();
        RoundPlanner planner = (round, sampled, profiles) -> {
            seen.put(round, profiles);
            Map<Integer, DevicePlan> plans = new LinkedHashMap<>();
            for (int d : sampled) {
                plans.put(d, round == 0 ? new DevicePlan(1, 8, 32, 0) : new DevicePlan(2, 4, 8, 0));
            }
            return new RoundPlan(plans, 1.5, 0, "test");
        };
        JobResult r = TrainingJob.run(TestJobs.prepare(config), config, null, planner).result().get(5, TimeUnit.MINUTES);

        assertThat(seen.get(0)).as("every device profiled itself before round 0").containsOnlyKeys(0, 1);
        seen.get(0).values().forEach(p -> assertThat(p.secondsPerSampleBlock()).isPositive());
        for (int d = 0; d < 2; d++) {
            DeviceRoundStats first = stats(r, d, 0);
            DeviceRoundStats second = stats(r, d, 1);
            assertThat(second.samples()).as("device %d trains the same samples per round", d).isEqualTo(first.samples());
            assertThat(second.microBatches()).as("device %d: half the micro-batch, twice the steps", d)
                    .isEqualTo((first.samples() + 3) / 4).isGreaterThan(first.microBatches());
            double flopsPerSample0 = first.flops() / first.samples();
            double flopsPerSample1 = second.flops() / second.samples();
            assertThat(flopsPerSample1 / flopsPerSample0).as("device %d runs two blocks instead of one", d).isBetween(1.6, 2.4);
            double bytes0 = (double) first.bytesUp() / first.samples();
            double bytes1 = (double) second.bytesUp() / second.samples();
            assertThat(bytes1 / bytes0).as("device %d sends 8-bit activations", d).isBetween(0.2, 0.35);
            int device = d;
            int trained = r.shardReports().stream().filter(s -> s.round() == 1).mapToInt(s -> s.trainedSamples().getOrDefault(device, 0)).sum();
            assertThat(trained).as("the shard trained every row at the new cut").isEqualTo(second.samples());
        }
        assertThat(r.rounds()).extracting(RoundSummary::predictedSeconds).containsExactly(1.5, 1.5);
    }

    /** The optimiser plans from the profiles and predicts; each device's link runs at its allocated rate. */
    @Test
    void theOptimiserPlansEveryRoundFromMeasuredProfiles() throws Exception {
        Config config = TestJobs.config(Map.of("mode", "splitfrozen", "federation.rounds", 2, "federation.devices", 3,
                "planning.policy", "sflllm", "links.enabled", true, "links.latency", "1ms", "federation.split-points", "1"));
        JobResult r = TestJobs.run(config);
        for (RoundSummary s : r.rounds()) {
            assertThat(s.predictedSeconds()).as("round %d predicted", s.round()).isPositive().isFinite();
            assertThat(s.trainSeconds()).isPositive();
        }
        assertThat(r.deviceStats()).allSatisfy(d -> assertThat(d.samples()).isPositive());
    }

    private static DeviceRoundStats stats(JobResult r, int device, int round) {
        List<DeviceRoundStats> s = r.deviceStats().stream().filter(x -> x.device() == device && x.round() == round).toList();
        assertThat(s).hasSize(1);
        return s.get(0);
    }
}
