package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.testing.TestJobs;

import com.typesafe.config.Config;

import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A device node that leaves mid-round is taken out of the round; a node that brings the device back is taken back. */
class MembershipTest {

    @Test
    void aDeviceNodeThatLeavesIsDroppedAndOneThatRejoinsIsTakenBack() throws Exception {
        Config job = TestJobs.config(Map.of("mode", "splitfrozen", "server.shards", 1, "federation.devices", 3, "federation.rounds", 4,
                "data.train-limit", 1200, "pipeline.ack-timeout", "3s", "seed", 9));
        JobResult r;
        try (LoopbackCluster cluster = new LoopbackCluster(job)) {
            cluster.start(List.of(SplitfedNode.AGGREGATOR), List.of());
            cluster.start(List.of(SplitfedNode.SERVER), List.of());
            cluster.start(List.of(SplitfedNode.DEVICE), List.of(0));
            cluster.start(List.of(SplitfedNode.DEVICE), List.of(1));
            ActorSystem<Void> leaving = cluster.start(List.of(SplitfedNode.DEVICE), List.of(2));
            await(cluster, "device 2 progressing in round 0", () -> cluster.events.stream()
                    .anyMatch(e -> e instanceof JobEvent.Progress p && p.round() == 0 && p.device() == 2));
            leaving.terminate();
            leaving.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
            await(cluster, "round 0 closed", () -> cluster.events.stream().anyMatch(e -> e instanceof JobEvent.RoundClosed c && c.summary().round() == 0));
            cluster.start(List.of(SplitfedNode.DEVICE), List.of(2));
            r = cluster.result.get(5, TimeUnit.MINUTES);
        }
        RoundSummary first = r.rounds().get(0);
        assertThat(first.gone()).containsExactly(2);
        assertThat(first.done()).containsExactly(0, 1);
        RoundSummary last = r.rounds().get(r.rounds().size() - 1);
        assertThat(last.sampled()).as("the device is back by the last round").contains(2);
        assertThat(last.done()).contains(2);
    }

    private static void await(LoopbackCluster cluster, String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
