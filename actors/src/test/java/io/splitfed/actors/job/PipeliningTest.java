package io.splitfed.actors.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.actors.testing.TestJobs;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Devices keep the server's credit window full on slow links, never more, and nothing is lost;
 * and however the messages interleave, SFL devices step in the same order and train the same adapters.
 */
class PipeliningTest {

    @Test
    void devicesFillTheirWindowWithoutExceedingIt() throws Exception {
        int window = 3;
        Config config = TestJobs.config(Map.of("federation.devices", 2, "mode", "splitfrozen", "pipeline.window", window,
                "links.enabled", true, "links.uplink-mbps", 4, "links.latency", "30ms", "federation.rounds", 1));
        JobResult r = TestJobs.run(config);
        int peakOverall = 0;
        for (DeviceRoundStats d : r.deviceStats()) {
            List<TimelineEvent> events = new ArrayList<>(d.timeline());
            events.sort(Comparator.comparingLong(TimelineEvent::micros).thenComparing(e -> e.stage() == TimelineEvent.Stage.ANSWERED ? 0 : 1));
            int inFlight = 0;
            int peak = 0;
            for (TimelineEvent e : events) {
                if (e.stage() == TimelineEvent.Stage.SENT) {
                    peak = Math.max(peak, ++inFlight);
                } else if (e.stage() == TimelineEvent.Stage.ANSWERED) {
                    inFlight--;
                }
            }
            assertThat(peak).as("device %d in flight", d.device()).isLessThanOrEqualTo(window);
            peakOverall = Math.max(peakOverall, peak);
            int trained = r.shardReports().stream().mapToInt(s -> s.trainedSamples().getOrDefault(d.device(), 0)).sum();
            assertThat(trained).as("every micro-batch trained").isEqualTo(d.samples());
        }
        assertThat(peakOverall).as("slow links keep the window full").isEqualTo(window);
    }

    @Test
    void sflDevicesStepInTheSameOrderHoweverMessagesInterleave() throws Exception {
        Map<String, Object> sfl = Map.of("mode", "sfl", "server.sfl-server-model", "per-device", "federation.devices", 2,
                "pipeline.window", 3, "federation.rounds", 2, "seed", 5);
        Config config = TestJobs.config(sfl);
        // on slow links every cut gradient comes back after the device's previous step let the next forward through
        Map<String, Object> shaped = new java.util.HashMap<>(sfl);
        shaped.putAll(Map.of("links.enabled", true, "links.uplink-mbps", 8, "links.downlink-mbps", 8, "links.latency", "15ms"));
        JobResult undisturbed = TestJobs.run(TestJobs.config(shaped));

        // no links, and device 0 slowed 6x from the first round on: its results leave late and out of
        // step with device 1's, and its backward passes end long after the next cut gradients came back
        JobResult slow = TestJobs.runWithFault(config, (event, control) -> {
            if (event instanceof JobEvent.RoundStarted) {
                control.tell(new JobControl.SlowDevice(0, 6));
                return true;
            }
            return false;
        });

        assertThat(slow.deviceStats()).allSatisfy(d -> assertThat(d.samples()).isPositive());
        assertThat(slow.deviceAdapter().tensors()).allSatisfy((name, t) ->
                assertThat(t.data()).as(name).containsExactly(undisturbed.deviceAdapter().get(name).data()));
        assertThat(slow.serverAdapter().tensors()).allSatisfy((name, t) ->
                assertThat(t.data()).as(name).containsExactly(undisturbed.serverAdapter().get(name).data()));
    }
}
