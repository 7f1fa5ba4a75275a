package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.testing.TestJobs;

import com.typesafe.config.Config;

import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A device node that leaves mid-round is taken out of the round; a node that brings the device back is taken back. */
@Tag("cluster")
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

    /** As above, but the device node crashes (no leave, no coordinated shutdown) and comes back on the same port. */
    @Test
    void aDeviceNodeThatCrashesAndComesBackIsSampledAgain() throws Exception {
        // slow links, so that rounds last long enough for the dead node to be removed and come back
        Config job = TestJobs.config(Map.of("mode", "splitfrozen", "server.shards", 1, "federation.devices", 3, "federation.rounds", 10,
                "data.train-limit", 1200, "pipeline.ack-timeout", "3s", "seed", 9, "links.enabled", true, "links.uplink-mbps", 2));
        JobResult r;
        int rejoinedInRound;
        try (LoopbackCluster cluster = new LoopbackCluster(job)) {
            cluster.start(List.of(SplitfedNode.AGGREGATOR), List.of());
            cluster.start(List.of(SplitfedNode.SERVER), List.of());
            cluster.start(List.of(SplitfedNode.DEVICE), List.of(0, 1));
            int port = LoopbackCluster.freePort();
            ActorSystem<Void> crashing = cluster.start(List.of(SplitfedNode.DEVICE), List.of(2), port,
                    com.typesafe.config.ConfigFactory.parseString("pekko.coordinated-shutdown.run-by-actor-system-terminate = off\n"
                            + "pekko.cluster.run-coordinated-shutdown-when-down = off"));
            await(cluster, "device 2 progressing in round 2", () -> cluster.events.stream()
                    .anyMatch(e -> e instanceof JobEvent.Progress p && p.round() == 1 && p.device() == 2));
            crashing.terminate();
            crashing.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
            // the same device id on the same address, once the cluster has removed the dead incarnation
            ActorSystem<Void> seed = cluster.systems.get(0);
            await(cluster, "the dead device node removed", () -> java.util.stream.StreamSupport.stream(
                    org.apache.pekko.cluster.typed.Cluster.get(seed).state().getMembers().spliterator(), false)
                    .noneMatch(m -> m.address().port().get().equals(port)));
            cluster.start(List.of(SplitfedNode.DEVICE), List.of(2), port);
            rejoinedInRound = cluster.events.stream().filter(e -> e instanceof JobEvent.RoundStarted).mapToInt(e -> ((JobEvent.RoundStarted) e).round())
                    .max().orElse(0);
            r = cluster.result.get(5, TimeUnit.MINUTES);
        }
        assertThat(r.rounds().get(1).gone()).as("lost in round 2").contains(2);
        for (RoundSummary s : r.rounds().subList(rejoinedInRound + 1, r.rounds().size())) {
            assertThat(s.sampled()).as("sampled in round %d, after it registered again in round %d", s.round() + 1, rejoinedInRound + 1).contains(2);
        }
        assertThat(rejoinedInRound + 1).as("rounds left after the rejoin").isLessThan(r.rounds().size());
    }

    private static void await(LoopbackCluster cluster, String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
