package io.splitfed.actors.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.chaos.Malformed;
import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.testing.TestJobs;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import com.typesafe.config.Config;

import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Every kind of bad input, sent into a running job: each is refused with a reason in the log, the
 * job goes on, and the global adapters end bit for bit where they end without it.
 */
class BadInputTest {

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void captureLog() {
        log.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(log);
    }

    @AfterEach
    void release() {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(log);
    }

    /** SFL with one shared server adapter, devices in turn, window 1: deterministic, so the hashes can be compared. */
    private static Config job(Map<String, Object> extra) {
        Map<String, Object> o = new LinkedHashMap<>(Map.of("mode", "sfl", "federation.devices", 3, "pipeline.window", 1,
                "federation.rounds", 2, "federation.split-points", "2", "training.lora.dropout", 0.0, "data.train-limit", 192));
        o.putAll(extra);
        return TestJobs.config(o);
    }

    @Test
    void everyKindOfBadInputIsRefusedAndLeavesTheModelAsItWas() throws Exception {
        Config config = job(Map.of());
        JobResult clean = TestJobs.run(config);

        AtomicReference<ActorRef<JobControl>> control = new AtomicReference<>();
        TrainingJob.RunningJob running = TrainingJob.runWithFaults(TestJobs.prepare(config), config, e -> {
            if (e instanceof JobEvent.RoundStarted s && s.round() == 1) {
                long seed = 1;
                for (Malformed kind : Malformed.values()) {
                    control.get().tell(new JobControl.SendMalformed(kind, 1, 1, seed++));
                }
            }
        });
        control.set(running.control());
        JobResult attacked = running.result().get(5, TimeUnit.MINUTES);

        assertThat(attacked.rounds()).hasSize(2);
        assertThat(attacked.deviceAdapter().sha256()).as("device adapter").isEqualTo(clean.deviceAdapter().sha256());
        assertThat(attacked.serverAdapter().sha256()).as("server adapter").isEqualTo(clean.serverAdapter().sha256());

        List<String> refused = new ArrayList<>();
        attacked.shardReports().stream().map(ShardRoundReport::rejected).forEach(refused::addAll);
        assertThat(String.join("\n", refused))
                .contains("activations hold NaN")
                .contains("activations have shape [2, 4, 65], expected [2, 4, 64]")
                .contains("activations have shape [2, 4, 128], expected [2, 4, 64]")
                .contains("round 0 is closed")
                .contains("unknown device 10");
        String logged = logged();
        assertThat(logged.split("dropped a malformed frame", -1)).as("garbage and truncated frames").hasSize(3);
        assertThat(logged.split("did not come from the device's actor", -1)).as("the NaN and the outlier update").hasSize(3);
        // three refused micro-batches in device 1's name in one round quarantine it (a forged update, sent from another actor, does not count)
        assertThat(attacked.rounds().get(0).benched()).isEmpty();
        assertThat(attacked.rounds().get(1).benched()).containsExactly(1);
        assertThat(logged).contains("device 1 is benched for 2 rounds");
    }

    /**
     * A device whose own actor sends an adapter full of NaN (a diverged local step) is refused by
     * the finite-value check, not by the sender check, and quarantined; the global adapter stays finite.
     */
    @Test
    void aNanUpdateFromTheDevicesOwnActorIsRefusedByTheNanCheck() throws Exception {
        Config config = job(Map.of("mode", "fedlora", "federation.devices", 4, "robustness.quarantine-after", 1,
                "federation.rounds", 2, "federation.min-devices", 2));
        AtomicReference<ActorRef<JobControl>> control = new AtomicReference<>();
        TrainingJob.RunningJob running = TrainingJob.runWithFaults(TestJobs.prepare(config), config, e -> {
            if (e instanceof JobEvent.RoundStarted s && s.round() == 0) {
                control.get().tell(new JobControl.PoisonDevice(2, Double.NaN));
            }
        });
        control.set(running.control());
        JobResult r = running.result().get(5, TimeUnit.MINUTES);

        assertThat(r.rounds()).hasSize(2);
        String logged = logged();
        assertThat(logged).containsPattern("device 2: adapter update for round 1 refused: \\S+ holds NaN at 0");
        assertThat(logged).as("it came from the device's own actor").doesNotContain("did not come from the device's actor");
        assertThat(r.rounds().get(0).benched()).containsExactly(2);
        assertThat(r.rounds().get(1).sampled()).doesNotContain(2);
        r.deviceAdapter().tensors().forEach((k, t) -> {
            for (float v : t.data()) {
                assertThat(Float.isFinite(v)).as(k).isTrue();
            }
        });
    }

    /** A device that sends a poisoned adapter is refused for its distance, and quarantined. */
    @Test
    void aByzantineDeviceIsRefusedAndQuarantined() throws Exception {
        Config config = job(Map.of("mode", "fedlora", "federation.devices", 4, "robustness.quarantine-after", 1,
                "federation.rounds", 3, "federation.min-devices", 2));
        AtomicReference<ActorRef<JobControl>> control = new AtomicReference<>();
        TrainingJob.RunningJob running = TrainingJob.runWithFaults(TestJobs.prepare(config), config, e -> {
            if (e instanceof JobEvent.RoundStarted s && s.round() == 0) {
                control.get().tell(new JobControl.PoisonDevice(3, 1000));
            }
        });
        control.set(running.control());
        JobResult r = running.result().get(5, TimeUnit.MINUTES);

        assertThat(r.rounds()).hasSize(3);
        RoundSummary first = r.rounds().get(0);
        assertThat(first.benched()).containsExactly(3);
        assertThat(r.rounds().get(1).sampled()).doesNotContain(3);
        String logged = logged();
        assertThat(logged).contains("device 3: adapter update for round 1 refused: its distance from the global adapter");
        r.deviceAdapter().tensors().forEach((k, t) -> {
            for (float v : t.data()) {
                assertThat(Math.abs(v)).as(k).isLessThan(5f);
            }
        });
    }

    /** What the job logged so far: a copy taken under the appender's lock, as actor threads may still be logging. */
    private String logged() {
        synchronized (log) {
            return String.join("\n", new java.util.ArrayList<>(log.list).stream().map(ILoggingEvent::getFormattedMessage).toList());
        }
    }
}
