package io.splitfed.actors.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.fleet.FleetDevice;
import io.splitfed.actors.fleet.LinkProfile;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.model.config.ModelConfig;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** On a fleet's time, the planners see the fleet's speeds and links, not this host's or the radio's distances. */
class FleetPlanningTest {

    private static final ModelConfig MINILM = ModelConfig.bert(30522, 384, 6, 12, 1536, 512, 1e-12);
    private static final FleetDevice A100 = new FleetDevice("a100", 3000, 3000, LinkProfile.NONE, 0.0004, 0);

    private static FleetDevice phone(double gflops, double uplinkMbps) {
        return new FleetDevice("phone", gflops, gflops, new LinkProfile(uplinkMbps, 4.32, 40), 0.02, 0.2);
    }

    private static AllocationPlanner planner(String policy, Fleet fleet) {
        Config config = TestJobs.config(Map.of("mode", "splitfrozen", "federation.devices", fleet.devices().size(), "planning.policy", policy,
                "federation.split-points", "1", "planning.fading", false));
        Map<Integer, Integer> samples = new LinkedHashMap<>();
        for (int d = 0; d < fleet.devices().size(); d++) {
            samples.put(d, 64);
        }
        return new AllocationPlanner(JobSpec.fromConfig(config), MINILM, 2, samples, true, fleet);
    }

    private static RoundPlan plan(AllocationPlanner planner, int devices) {
        Map<Integer, DeviceProfile> profiles = new LinkedHashMap<>();
        List<Integer> sampled = new java.util.ArrayList<>();
        for (int d = 0; d < devices; d++) {
            // a profile as this host measured it: one that a fleet's planner must not read as the device's speed
            profiles.put(d, new DeviceProfile(d, 0.001, 8, 1, 64, 64L * 64));
            sampled.add(d);
        }
        return planner.plan(0, sampled, profiles);
    }

    @Test
    void identicalPhonesKeepTheirFleetsLinkAtFullPower() {
        Fleet fleet = new Fleet("phones", "test", List.of(phone(48, 3.29), phone(48, 3.29), phone(48, 3.29)), A100);
        RoundPlan p = plan(planner("sflllm", fleet), 3);

        assertThat(p.devices()).hasSize(3);
        for (DevicePlan d : p.devices().values()) {
            assertThat(d.uplinkMbps()).as("an even share of the cell at full power is the fleet's rate").isCloseTo(3.29, within(1e-6));
            assertThat(d.uplinkWatts()).isCloseTo(0.2, within(1e-9));
            assertThat(d.uplinkBits()).isEqualTo(32);
        }
        // SplitFrozen's round on LTE is bound by the uplink: 64 samples of 64 tokens x 384 floats at 3.29 Mbit/s
        double uplink = 64 * 64 * 384 * 4 * 8 / 3.29e6;
        assertThat(p.predictedSeconds()).isGreaterThan(uplink).isLessThan(uplink * 1.2);
    }

    @Test
    void sflllmGivesTheSlowLinkMoreOfTheCell() {
        Fleet fleet = new Fleet("mixed", "test", List.of(phone(48, 1.0), phone(48, 6.0), phone(48, 6.0)), A100);
        RoundPlan p = plan(planner("sflllm", fleet), 3);

        DevicePlan slow = p.devices().get(0);
        DevicePlan fast = p.devices().get(1);
        assertThat(slow.uplinkMbps()).as("the slow link gets subchannels from the fast ones").isGreaterThan(1.0);
        assertThat(fast.uplinkMbps()).isLessThan(6.0);
        double alone = 64 * 64 * 384 * 4 * 8 / 1.0e6;
        assertThat(p.predictedSeconds()).as("shorter than the slow link's round on its own share").isLessThan(alone);
    }

    @Test
    void sflamSendsFewerBitsAtLessPowerThanFullPrecision() {
        Fleet fleet = new Fleet("phones", "test", List.of(phone(48, 3.29), phone(48, 3.29)), A100);
        RoundPlan full = plan(planner("sflllm", fleet), 2);
        RoundPlan traded = plan(planner("sflam", fleet), 2);

        for (DevicePlan d : traded.devices().values()) {
            assertThat(d.uplinkBits()).as("LTE-bound activations are quantized").isLessThan(32);
            assertThat(d.uplinkWatts()).isPositive().isLessThanOrEqualTo(0.2 + 1e-9);
        }
        assertThat(traded.predictedJoules()).as("less energy than the delay-minimising plan").isLessThan(full.predictedJoules());
        assertThat(traded.predictedSeconds()).as("and, with a quarter of the bytes or fewer, less time").isLessThan(full.predictedSeconds());
    }
}
