package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.ExactlyOnce;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.testing.TestJobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A GPU node dies mid-round, without leaving (no coordinated shutdown, no hand-off): its shard
 * comes back on the other GPU node from the round-start snapshot the shard store keeps, its devices
 * run the round again, and the job finishes with every answered micro-batch trained exactly once.
 */
@Tag("cluster")
class NodeCrashTest {

    @Test
    void aServerNodeThatDiesMidRoundLosesNothingAcknowledged() throws Exception {
        Config job = TestJobs.config(Map.of("mode", "splitfrozen", "server.shards", 2, "federation.devices", 2, "federation.rounds", 4,
                "federation.epochs", 2, "data.train-limit", 1200, "pipeline.ack-timeout", "3s", "training.lora.dropout", 0.0, "seed", 5));
        JobResult local = TestJobs.run(job);
        JobResult remote;
        try (LoopbackCluster cluster = new LoopbackCluster(job)) {
            cluster.start(List.of(SplitfedNode.AGGREGATOR), List.of());
            // the victim is the only GPU node when the job starts, so it hosts both shards; a second one joins (a
            // rebalance may move one shard to it), so the crash leaves a node to take the lost shard
            ActorSystem<Void> victim = cluster.start(List.of(SplitfedNode.SERVER), List.of(), LoopbackCluster.freePort(),
                    ConfigFactory.parseString("pekko.coordinated-shutdown.run-by-actor-system-terminate = off\n"
                            + "pekko.cluster.run-coordinated-shutdown-when-down = off"));
            cluster.start(List.of(SplitfedNode.DEVICE), List.of(0, 1));
            cluster.start(List.of(SplitfedNode.SERVER), List.of());
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (cluster.events.stream().filter(e -> e instanceof JobEvent.Progress p && p.round() == 1).count() < 3) {
                assertThat(System.nanoTime()).as("round 2 under way in time").isLessThan(deadline);
                Thread.sleep(20);
            }
            victim.terminate();
            remote = cluster.result.get(5, TimeUnit.MINUTES);
            assertThat(cluster.events).as("the coordinator rewound the lost shard's devices")
                    .anyMatch(e -> e instanceof JobEvent.ShardReplaced s && s.round() >= 1 && !s.rewound().isEmpty());
        }
        assertThat(remote.rounds()).hasSize(4);
        for (RoundSummary r : remote.rounds()) {
            assertThat(r.done()).as("devices done in round %d", r.round() + 1).containsExactly(0, 1);
        }
        ExactlyOnce once = ExactlyOnce.of(remote);
        System.out.println("node crash: " + once);
        assertThat(once.trainedTwice()).as("micro-batches trained twice").isZero();
        assertThat(once.trainedOnce()).as("every answered micro-batch trained once").isEqualTo(once.answered());
        long expected = local.rounds().stream().mapToLong(RoundSummary::samples).sum();
        long trained = remote.shardReports().stream().flatMap(r -> r.trainedSamples().values().stream()).mapToLong(Integer::longValue).sum();
        assertThat(trained).as("samples the shards trained, against a run without the crash").isEqualTo(expected);
    }
}
