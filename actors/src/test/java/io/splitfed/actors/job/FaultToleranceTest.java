package io.splitfed.actors.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.model.testing.LogWatch;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** Devices that stop, slow down or crash, and a shard that crashes, inside one JVM. */
class FaultToleranceTest {

    @Test
    void aDeviceStoppedMidRoundDoesNotStopTheRound() throws Exception {
        Config config = TestJobs.config(Map.of("federation.devices", 3, "mode", "splitfrozen"));
        JobResult r = TestJobs.runWithFault(config, (event, control) -> {
            if (event instanceof JobEvent.Progress p && p.round() == 0 && p.device() == 1) {
                control.tell(new JobControl.StopDevice(1));
                return true;
            }
            return false;
        });
        RoundSummary first = r.rounds().get(0);
        assertThat(first.gone()).containsExactly(1);
        assertThat(first.done()).containsExactly(0, 2);
        assertThat(first.closedByDeadline()).isFalse();
        assertThat(r.rounds().get(1).sampled()).containsExactly(0, 2);
        assertThat(r.rounds()).hasSize(2);
    }

    @Test
    void aPlainJobHasNoFaultDecoratorAndSaysSoOfAFaultSentToIt() throws Exception {
        // the 1000x slowdown that holds device 0 past the deadline below, sent to a job started without fault injection
        Config config = TestJobs.config(Map.of("federation.devices", 3, "mode", "splitfrozen", "federation.round-deadline", "10m",
                "federation.rounds", 1, "pipeline.activation-cache", false, "data.train-limit", 500, "pipeline.window", 1));
        AtomicReference<TrainingJob.RunningJob> running = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        try (LogWatch refused = LogWatch.forText("fault injection is off in this job")) {
            running.set(TrainingJob.run(TestJobs.prepare(config), config, e -> {
                if (e instanceof JobEvent.RoundStarted s && s.round() == 0) {
                    try {
                        started.await();
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                    }
                    running.get().send(new JobControl.SlowDevice(0, 1000));
                }
            }));
            started.countDown();
            JobResult r = running.get().result().get(5, TimeUnit.MINUTES);
            assertThat(refused.count()).as("the job said it injects no fault").isEqualTo(1);
            RoundSummary first = r.rounds().get(0);
            assertThat(first.done()).containsExactly(0, 1, 2);
            Map<Integer, Double> compute = new java.util.HashMap<>();
            r.deviceStats().stream().filter(d -> d.round() == 0).forEach(d -> compute.put(d.device(), d.computeSeconds()));
            // slowed, device 0 would have counted about 1000 times the others' compute; on a busy machine they differ by a few
            assertThat(compute.get(0)).as("device 0's compute seconds, against devices 1 and 2's: %s", compute)
                    .isLessThan(10 * Math.max(compute.get(1), compute.get(2)));
        }
    }

    @Test
    void aSlowDeviceDoesNotHoldTheRoundPastItsDeadline() throws Exception {
        // enough micro-batches that device 0 is still at work when the slowdown reaches it, and one in
        // flight at a time, so its delays add up: a micro-batch of stories260K computes in a
        // millisecond or two, and 1000x that, 20 times over, is well past the deadline
        Config config = TestJobs.config(Map.of("federation.devices", 3, "mode", "splitfrozen", "federation.round-deadline", "6s",
                "federation.rounds", 1, "pipeline.activation-cache", false, "data.train-limit", 500, "pipeline.window", 1));
        JobResult r = TestJobs.runWithFault(config, (event, control) -> {
            if (event instanceof JobEvent.RoundStarted s && s.round() == 0) {
                control.tell(new JobControl.SlowDevice(0, 1000));
                return true;
            }
            return false;
        });
        RoundSummary first = r.rounds().get(0);
        assertThat(first.closedByDeadline()).isTrue();
        assertThat(first.late()).containsExactly(0);
        assertThat(first.done()).containsExactly(1, 2);
        assertThat(first.accuracy()).isGreaterThan(0.0);
    }

    @Test
    void aCrashedShardResumesFromItsStateAndTrainsNothingTwice() throws Exception {
        Map<String, Object> one = Map.of("federation.devices", 1, "mode", "splitfrozen", "pipeline.window", 1, "training.lora.dropout", 0.0,
                "federation.epochs", 2);
        Config config = TestJobs.config(one);
        List<Float> undisturbed = serverLosses(TestJobs.run(config));
        JobResult crashed = TestJobs.runWithFault(config, (event, control) -> {
            if (event instanceof JobEvent.Progress p && p.round() == 0 && p.answered() == 3) {
                control.tell(new JobControl.CrashShard(0));
                return true;
            }
            return false;
        });
        assertThat(serverLosses(crashed)).containsExactlyElementsOf(undisturbed);
        assertEveryAnsweredSampleTrainedOnce(crashed);
    }

    @Test
    void aCrashedDeviceResumesFromItsStateAndTrainsNothingTwice() throws Exception {
        Map<String, Object> one = Map.of("federation.devices", 1, "mode", "sfl", "pipeline.window", 1, "training.lora.dropout", 0.0,
                "federation.split-points", "2");
        Config config = TestJobs.config(one);
        List<Float> undisturbed = serverLosses(TestJobs.run(config));
        JobResult crashed = TestJobs.runWithFault(config, (event, control) -> {
            if (event instanceof JobEvent.Progress p && p.round() == 1 && p.answered() == 2) {
                control.tell(new JobControl.CrashDevice(0));
                return true;
            }
            return false;
        });
        assertThat(serverLosses(crashed)).containsExactlyElementsOf(undisturbed);
        assertEveryAnsweredSampleTrainedOnce(crashed);
    }

    /** Each device's answered samples equal what the shards trained for it, round by round. */
    private static void assertEveryAnsweredSampleTrainedOnce(JobResult r) {
        for (DeviceRoundStats d : r.deviceStats()) {
            int trained = r.shardReports().stream().filter(s -> s.round() == d.round())
                    .mapToInt(s -> s.trainedSamples().getOrDefault(d.device(), 0)).sum();
            assertThat(trained).as("device %d round %d", d.device(), d.round()).isEqualTo(d.samples());
        }
    }

    private static List<Float> serverLosses(JobResult result) {
        List<Float> out = new ArrayList<>();
        for (ShardRoundReport r : result.shardReports()) {
            r.losses().stream().sorted(Comparator.comparingLong(StepLoss::seq)).forEach(l -> out.add(l.loss()));
        }
        return out;
    }
}
