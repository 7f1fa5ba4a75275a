package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;
import io.splitfed.runtime.testing.Scrape;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoublePredicate;

/**
 * Two aggregator nodes, a GPU node and an edge node, each its own {@code splitfed node} process
 * started from {@code cluster-config/}, checkpointing every round to a directory both aggregator
 * nodes read. The active job host gets SIGKILL 30% into round 3; the other aggregator node takes
 * the job host over (a cluster singleton hand-over), the nodes register with it again, and it
 * resumes from the checkpoint after round 2: the job finishes there, with every round closed and
 * every answered micro-batch trained exactly once, and every surviving node exits 0. Node logs in
 * {@code target/job-host-failover/}.
 */
@Tag("cluster")
class JobHostFailoverTest {

    private static final int ROUNDS = 6;

    @TempDir
    Path tmp;

    private List<String> job() {
        return List.of("--max-length", "32", "--micro-batch", "8", "--epochs", Integer.toString(ROUNDS), "--train-limit", "800", "--eval-limit", "200",
                "--rounds", Integer.toString(ROUNDS), "--seed", "7", "--set", "splitfed.data-root=" + SharedData.root(),
                "--set", "splitfed.job.mode=splitfrozen", "--set", "splitfed.job.federation.devices=4", "--set", "splitfed.job.server.shards=2",
                "--set", "splitfed.job.server.mix-devices=1", "--set", "splitfed.job.pipeline.ack-timeout=5s",
                "--set", "splitfed.job.pipeline.activation-cache=off",
                "--set", "splitfed.job.checkpoint.dir=" + tmp.resolve("checkpoints"));
    }

    @Test
    void theOtherAggregatorNodeTakesOverFromTheNewestCheckpointWhenTheJobHostIsKilled() throws Exception {
        Path configs = Path.of(System.getProperty("user.dir")).resolve("../cluster-config").normalize();
        int hostPort = NodeCommandTest.freePort();
        String seed = "pekko://splitfed@127.0.0.1:" + hostPort;
        Path standbyOut = tmp.resolve("standby");
        List<NodeProcess> nodes = new ArrayList<>();
        Path logs = Files.createDirectories(Path.of("target", "job-host-failover", Long.toString(System.currentTimeMillis())));
        NodeProcess host;
        NodeProcess standby;
        try {
            int metricsPort = NodeCommandTest.freePort();
            host = node(nodes, logs, "job-host", configs.resolve("aggregator.conf"), hostPort, seed, "--set", "splitfed.node.out=" + tmp.resolve("host"),
                    "--set", "splitfed.node.metrics-port=" + metricsPort);
            host.awaitOutput("ready: roles", 1, 2);
            standby = node(nodes, logs, "standby", configs.resolve("aggregator.conf"), NodeCommandTest.freePort(), seed,
                    "--set", "splitfed.node.out=" + standbyOut);
            NodeProcess gpu = node(nodes, logs, "gpu", configs.resolve("gpu.conf"), NodeCommandTest.freePort(), seed);
            standby.awaitOutput("ready: roles", 1, 2);
            node(nodes, logs, "edge", configs.resolve("edge.conf"), NodeCommandTest.freePort(), seed, "--node-devices", "0-3");

            // about 30% into round 3, as the job host's metrics say
            Scrape.await("http://127.0.0.1:" + metricsPort + "/metrics", Duration.ofMinutes(4), "splitfed_round", (DoublePredicate) r -> r >= 3,
                    "splitfed_round_progress_ratio", (DoublePredicate) p -> p >= 0.3);
            assertThat(Files.list(tmp.resolve("checkpoints")).map(p -> p.getFileName().toString())).contains("round-0002.ckpt");
            host.kill();

            assertThat(standby.awaitExit(6)).as("the standby's exit, having taken over:%n%s", standby.tail()).isZero();
            for (NodeProcess n : nodes) {
                if (n != host && n != standby) {
                    assertThat(n.awaitExit(2)).as("%s's exit once the job ended:%n%s", n.name, n.tail()).isZero();
                }
            }
            assertThat(standby.output()).contains("taking over the job from the checkpoint after round 2");
            assertThat(gpu.output()).as("the running shards went back to the checkpoint").contains("shard 0: back to its checkpoint after round 2")
                    .contains("shard 1: back to its checkpoint after round 2");
        } finally {
            nodes.forEach(NodeProcess::close);
        }

        JsonNode metrics = new ObjectMapper().readTree(standbyOut.resolve("metrics.json").toFile());
        assertThat(metrics.get("rounds")).as("every round closed, the first two before the job host was lost").hasSize(ROUNDS);
        JsonNode once = metrics.get("exactly_once");
        System.out.printf("job host failover: %s, accuracy %.4f%n", once, metrics.get("accuracy").asDouble());
        assertThat(once.get("trained_twice").asLong()).as("micro-batches trained twice").isZero();
        assertThat(once.get("trained_once").asLong()).as("every answered micro-batch trained once").isEqualTo(once.get("answered").asLong())
                .isPositive();
    }

    private List<String> args(Path config, int port, String seed, String... extra) {
        List<String> args = new ArrayList<>(List.of("--config", config.toString(), "--port", Integer.toString(port), "--seed-nodes", seed,
                "--set", "pekko.cluster.split-brain-resolver.stable-after=5s"));
        args.addAll(List.of(extra));
        args.addAll(job());
        return args;
    }

    private NodeProcess node(List<NodeProcess> nodes, Path logs, String name, Path config, int port, String seed, String... extra) throws Exception {
        List<String> args = args(config, port, seed, extra);
        args.addAll(io.splitfed.runtime.churn.LocalNode.tls(logs.resolve("pki"), name)); // TLS, as the README's multi-host start
        NodeProcess n = NodeProcess.start(logs, name, args.toArray(String[]::new));
        nodes.add(n);
        return n;
    }

}
