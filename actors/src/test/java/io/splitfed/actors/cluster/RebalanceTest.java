package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.testing.TestJobs;

import com.typesafe.config.Config;

import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion.ClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A third server node joins mid-training and then a node hosting shards leaves: the shards move
 * with their adapters and optimizer state, and every sample the devices sent is trained, once.
 */
@Tag("cluster")
class RebalanceTest {

    @Test
    void shardsMoveToAJoiningServerAndOffALeavingOneWithoutLosingWork() throws Exception {
        Config job = TestJobs.config(Map.of("mode", "splitfrozen", "server.shards", 3, "federation.devices", 3, "federation.rounds", 4,
                "federation.epochs", 2, "data.train-limit", 1200, "pipeline.ack-timeout", "3s", "training.lora.dropout", 0.0, "seed", 5));
        JobResult local = TestJobs.run(job);
        JobResult remote;
        String leavingNode;
        try (LoopbackCluster cluster = new LoopbackCluster(job)) {
            cluster.start(List.of(SplitfedNode.AGGREGATOR), List.of());
            List<ActorSystem<Void>> servers = new ArrayList<>();
            servers.add(cluster.start(List.of(SplitfedNode.SERVER), List.of()));
            servers.add(cluster.start(List.of(SplitfedNode.SERVER), List.of()));
            for (int d = 0; d < 3; d++) {
                cluster.start(List.of(SplitfedNode.DEVICE), List.of(d));
            }
            waitForRound(cluster, 1);
            servers.add(cluster.start(List.of(SplitfedNode.SERVER), List.of()));
            waitForRound(cluster, 2);
            // the node that leaves is one that hosts shards now: where sharding put them is its choice
            Map<Address, Integer> hosted = shardsPerNode(servers.get(0));
            ActorSystem<Void> leaving = servers.stream().max(Comparator.comparing(s -> hosted.getOrDefault(s.address(), 0))).orElseThrow();
            assertThat(hosted.get(leaving.address())).as("shards on the node about to leave (%s)", hosted).isPositive();
            leavingNode = leaving.address().toString();
            leaving.terminate();
            remote = cluster.result.get(5, TimeUnit.MINUTES);
        }
        assertThat(remote.rounds()).hasSize(4);
        for (RoundSummary r : remote.rounds()) {
            assertThat(r.done()).as("devices done in round %d", r.round()).containsExactly(0, 1, 2);
        }
        long expected = local.rounds().stream().mapToLong(RoundSummary::samples).sum();
        long seen = remote.rounds().stream().mapToLong(RoundSummary::samples).sum();
        assertThat(seen).as("samples the aggregator saw").isEqualTo(expected);
        long trained = remote.shardReports().stream().flatMap(r -> r.trainedSamples().values().stream()).mapToLong(Integer::longValue).sum();
        assertThat(trained).as("samples the shards trained").isEqualTo(expected);

        // the shards the leaving node hosted closed the last round on another node
        Map<Integer, String> lastNode = new TreeMap<>();
        for (ShardRoundReport r : remote.shardReports()) {
            System.out.printf("round %d shard %d on %s%n", r.round() + 1, r.shard(), r.node());
            if (r.round() == 3) {
                lastNode.put(r.shard(), r.node());
            }
        }
        assertThat(lastNode).as("every shard reported the last round").hasSize(3);
        assertThat(lastNode.values()).as("no shard on the node that left").doesNotContain(leavingNode);
    }

    /** Shards per server node, as cluster sharding reports them. */
    private static Map<Address, Integer> shardsPerNode(ActorSystem<Void> node) throws Exception {
        ClusterShardingStats stats = AskPattern.<ClusterShardingQuery, ClusterShardingStats>ask(ClusterSharding.get(node).shardState(),
                replyTo -> new GetClusterShardingStats(ServerShards.TYPE_KEY, Duration.ofSeconds(5), replyTo), Duration.ofSeconds(10),
                node.scheduler()).toCompletableFuture().get(15, TimeUnit.SECONDS);
        Map<Address, Integer> counts = new HashMap<>();
        stats.getRegions().forEach((address, region) -> counts.put(address, region.getStats().size()));
        return counts;
    }

    private static void waitForRound(LoopbackCluster cluster, int closed) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (cluster.events.stream().noneMatch(e -> e instanceof JobEvent.RoundClosed c && c.summary().round() >= closed - 1)) {
            assertThat(System.nanoTime()).as("round %d closed in time", closed).isLessThan(deadline);
            Thread.sleep(50);
        }
    }
}
