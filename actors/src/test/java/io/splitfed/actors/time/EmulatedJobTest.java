package io.splitfed.actors.time;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.fleet.FleetDevice;
import io.splitfed.actors.fleet.Fleets;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.testing.TestJobs;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A job on a fleet's emulated time: SplitFrozen with rows of eight devices mixed in every server
 * step, on mid-range phones over LTE. Run twice with the same seed, it trains bit-identical
 * adapters and its rounds end at the same emulated instants: events follow the emulated clock,
 * not the host's threads. Its rounds last at least what the phones' uplinks need for the bytes
 * they sent.
 */
class EmulatedJobTest {

    @Test
    void theSameSeedAndFleetTrainTheSameAdapterInTheSameEmulatedTime() throws Exception {
        // eight devices of 16 micro-batches a round, every server step mixing rows of all eight: on the
        // host's clock, three runs of this job trained three different adapters
        Config config = TestJobs.config(Map.of("federation.devices", 8, "federation.rounds", 2, "server.mix-devices", 8, "training.micro-batch", 4,
                "data.train-limit", 512));
        JobResult a = run(config);
        JobResult b = run(config);
        assertThat(a.serverAdapter().sha256()).as("server adapter").isEqualTo(b.serverAdapter().sha256());
        assertThat(a.rounds()).extracting(RoundSummary::seconds).isEqualTo(b.rounds().stream().map(RoundSummary::seconds).toList());
        assertThat(a.rounds()).extracting(RoundSummary::accuracy).isEqualTo(b.rounds().stream().map(RoundSummary::accuracy).toList());

        Fleet fleet = fleet(config);
        for (RoundSummary r : a.rounds()) {
            for (DeviceRoundStats s : a.deviceStats()) {
                if (s.round() == r.round()) {
                    double uplink = s.bytesUp() * 8 / (fleet.device(s.device()).link().uplinkMbps() * 1e6);
                    assertThat(r.trainSeconds()).as("round %d, device %d's %d bytes up", r.round(), s.device(), s.bytesUp()).isGreaterThanOrEqualTo(uplink);
                }
            }
        }
    }

    @Test
    void aFedLoraRoundFetchesTheGlobalAdapterComputesAndSendsItsOwnOnThePhones() throws Exception {
        Config config = TestJobs.config(Map.of("mode", "fedlora", "federation.devices", 2, "federation.rounds", 2));
        JobResult r = run(config);
        Fleet fleet = fleet(config);
        double adapterBytes = 4.0 * r.deviceAdapter().parameterCount();
        for (RoundSummary round : r.rounds()) {
            for (DeviceRoundStats s : r.deviceStats()) {
                if (s.round() == round.round()) {
                    var p = fleet.device(s.device());
                    double least = p.link().downSeconds(adapterBytes) + p.computeSeconds(0, s.flops()) + p.link().upSeconds(adapterBytes)
                            + 2 * p.link().latencySeconds();
                    // the clock counts whole nanoseconds: a microsecond's slack for its rounding
                    assertThat(round.trainSeconds()).as("round %d, device %d", round.round(), s.device()).isGreaterThanOrEqualTo(least - 1e-6);
                }
            }
        }
    }

    @Test
    void centralizedTrainingTakesTheServersTimeAndNoLink() throws Exception {
        Config config = TestJobs.config(Map.of("mode", "centralized", "federation.devices", 1, "federation.rounds", 2));
        JobResult r = run(config);
        Fleet fleet = fleet(config);
        for (RoundSummary round : r.rounds()) {
            DeviceRoundStats s = r.deviceStats().stream().filter(d -> d.round() == round.round()).findFirst().orElseThrow();
            // the steps one after another on the A100-class server, each rounded to whole nanoseconds
            assertThat(round.trainSeconds()).as("round %d", round.round())
                    .isCloseTo(fleet.server().computeSeconds(0, s.flops()), org.assertj.core.data.Offset.offset(1e-9 * (s.microBatches() + 1)));
        }
    }

    @Test
    void aDeviceAwayForARoundIsNotSampledInIt() throws Exception {
        Config config = TestJobs.config(Map.of("federation.devices", 8, "federation.rounds", 3));
        FleetDevice phone = fleet(config).device(0);
        FleetDevice sometimes = new FleetDevice(phone.tier(), phone.forwardGflops(), phone.trainGflops(), phone.link(), phone.joulesPerGflop(),
                phone.radioWatts(), 0.5);
        Fleet fleet = new Fleet("half-there", "test", java.util.Collections.nCopies(8, sometimes), fleet(config).server());
        JobResult r = TrainingJob.run(TestJobs.prepare(config), config, null, fleet).result().get(5, TimeUnit.MINUTES);
        for (RoundSummary round : r.rounds()) {
            List<Integer> there = java.util.stream.IntStream.range(0, 8).filter(d -> fleet.present(d, round.round(), 42)).boxed().toList();
            assertThat(round.sampled()).as("round %d", round.round()).isEqualTo(there);
        }
        assertThat(r.rounds().stream().mapToInt(x -> x.sampled().size()).sum()).as("about half of 24").isBetween(6, 18);
    }

    @Test
    void aPlannedUplinkRunsAtTheRateTheCellGaveIt() throws Exception {
        Config config = TestJobs.config(Map.of("planning.policy", "sflllm", "federation.split-points", "1", "planning.fading", false));
        FleetDevice phone = fleet(config).device(0);
        FleetDevice slow = phone.withUplink(1.0, 0);
        FleetDevice fast = phone.withUplink(6.0, 0);
        Fleet fleet = new Fleet("one-slow-link", "test", List.of(slow, fast), fleet(config).server());
        JobResult r = TrainingJob.run(TestJobs.prepare(config), config, null, fleet).result().get(5, TimeUnit.MINUTES);
        for (RoundSummary round : r.rounds()) {
            DeviceRoundStats s = r.deviceStats().stream().filter(d -> d.round() == round.round() && d.device() == 0).findFirst().orElseThrow();
            assertThat(s.uplinkMbps()).as("round %d: the slow link was given subchannels of the fast one", round.round()).isGreaterThan(1.2);
            double planned = s.bytesUp() * 8 / (s.uplinkMbps() * 1e6);
            double own = s.bytesUp() * 8 / 1.0e6;
            assertThat(round.trainSeconds()).as("round %d: its bytes at the planned rate, not at its own", round.round())
                    .isGreaterThanOrEqualTo(planned).isLessThan(own);
        }
    }

    private static Fleet fleet(Config config) {
        return Fleets.resolve(config, "phones", 8, 42, () -> {
            throw new AssertionError("no host");
        });
    }

    private static JobResult run(Config config) throws Exception {
        PreparedJob job = TestJobs.prepare(config);
        return TrainingJob.run(job, config, null, fleet(config)).result().get(5, TimeUnit.MINUTES);
    }
}
