package io.splitfed.runtime.churn;

import io.splitfed.actors.chaos.ChurnEvent;
import io.splitfed.actors.chaos.ChurnPlan;
import io.splitfed.runtime.cli.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A churn schedule played on a real cluster on this machine: a job host, GPU nodes and one edge
 * node per device, each a {@code splitfed node} JVM of its own started from
 * {@code cluster-config/} on loopback. A device is killed with its node ({@code SIGKILL}) and
 * started again at its restart; it is slowed by pausing its node ({@code SIGSTOP} and
 * {@code SIGCONT}, so it runs a {@code 1/factor} share of the time); a lost shard is a GPU node
 * killed and started again after the time down. Faults happen at their offset from the start of
 * their round, which the driver reads off the job host's round lines. What it reports comes from
 * the job host's {@code metrics.json}.
 */
public final class ClusterChurn {

    /** The faults a cluster of processes can take; links and message contents are the in-process injector's. */
    public static final Set<String> ACTIONS = Set.of("kill-device", "restart-device", "slow-device", "kill-shard");

    /**
     * @param dir where the nodes' configs, logs and the job host's outputs go
     * @param clusterConfig the {@code cluster-config/} directory
     * @param gpuNodes GPU nodes (at least 2 when the plan kills one, so its shards have somewhere to go)
     * @param timeoutMillis how long the whole job may take
     */
    public record Settings(Path dir, Path clusterConfig, int gpuNodes, long timeoutMillis, List<String> jvmOptions) {}

    /** What the job host's metrics say the churn did. */
    public record Outcome(JsonNode metrics, int devicesKilled, int deadlineRounds, int lateApplied, long answered, long trainedOnce,
            long trainedTwice, List<String> actions) {

        public boolean exactlyOnce() {
            return answered == trainedOnce && trainedTwice == 0;
        }

        public double accuracy() {
            return metrics.get("accuracy").asDouble();
        }
    }

    private ClusterChurn() {}

    /** Refuses a plan with faults a cluster of processes cannot take, naming them. */
    public static void check(ChurnPlan plan) {
        List<String> other = plan.events().stream().map(ChurnEvent::action).filter(a -> !ACTIONS.contains(a)).distinct().toList();
        if (!other.isEmpty()) {
            throw new UserError("churn --cluster plays " + ACTIONS + " on node processes; " + other
                    + " need the in-process injector (drop --cluster, or --malformed-rate 0 and a schedule without them)");
        }
    }

    public static Outcome run(Config job, ChurnPlan plan, Settings s, Consumer<String> out) throws Exception {
        check(plan);
        int devices = job.getInt("splitfed.job.federation.devices");
        int rounds = job.getInt("splitfed.job.federation.rounds");
        Files.createDirectories(s.dir());
        Path host = nodeConfig(s, job, "aggregator");
        Path gpu = nodeConfig(s, job, "gpu");
        Path edge = nodeConfig(s, job, "edge");
        Path metricsFile = s.dir().resolve("out").resolve("metrics.json");
        Files.deleteIfExists(metricsFile);
        List<LocalNode> all = new ArrayList<>();
        List<String> actions = new ArrayList<>();
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cluster-churn");
            t.setDaemon(true);
            return t;
        });
        List<Throttle> throttles = new ArrayList<>();
        try {
            int hostPort = LocalNode.freePort();
            String seed = "pekko://splitfed@127.0.0.1:" + hostPort;
            LocalNode jobHost = start(all, s, "job-host", host, hostPort, seed, "--set", "splitfed.node.out=" + s.dir().resolve("out"));
            ready(jobHost);
            List<LocalNode> gpus = new ArrayList<>();
            for (int g = 0; g < s.gpuNodes(); g++) {
                gpus.add(start(all, s, "gpu-" + (g + 1), gpu, LocalNode.freePort(), seed));
            }
            for (LocalNode g : gpus) {
                ready(g);
            }
            List<LocalNode> edges = new ArrayList<>();
            for (int d = 0; d < devices; d++) {
                LocalNode e = start(all, s, "edge-" + d, edge, LocalNode.freePort(), seed, "--node-devices", Integer.toString(d));
                edges.add(e);
                throttles.add(new Throttle(e, clock));
            }
            for (LocalNode e : edges) {
                ready(e);
            }
            out.accept(String.format(Locale.ROOT, "cluster: job host, %d GPU nodes, %d edge nodes on 127.0.0.1 (logs in %s)", s.gpuNodes(), devices, s.dir()));
            long start = System.nanoTime();
            for (int r = 0; r < rounds; r++) {
                if (r > 0) {
                    jobHost.awaitRound(r, Math.max(0, s.timeoutMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)));
                }
                for (ChurnEvent e : plan.of(r)) {
                    clock.schedule(() -> act(e, edges, gpus, throttles, clock, actions, out, start), e.atMillis(), TimeUnit.MILLISECONDS);
                }
            }
            OptionalInt exit = jobHost.awaitExit(Math.max(1, s.timeoutMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)));
            throttles.forEach(Throttle::stop);
            if (exit.isEmpty() || exit.getAsInt() != 0) {
                throw new IllegalStateException("the job host " + (exit.isEmpty() ? "did not finish within " + s.timeoutMillis() / 1000 + " s"
                        : "exited " + exit.getAsInt()) + "; its log is " + jobHost.log() + ":\n" + jobHost.tail());
            }
            // the job's nodes leave within seconds of the job host; a node restarted as the job ended may have joined after the
            // job host left, and waits for one until its registration timeout (2 min): it is stopped after a grace instead
            long grace = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (LocalNode n : all) {
                if (n != jobHost && n.isAlive() && n.awaitExit(Math.max(1, TimeUnit.NANOSECONDS.toMillis(grace - System.nanoTime()))).isEmpty()) {
                    out.accept(n.name() + " did not exit within 30 s of the job's end (restarted too late to register?); stopped");
                }
            }
        } finally {
            throttles.forEach(Throttle::stop);
            clock.shutdownNow();
            all.forEach(LocalNode::close);
        }
        JsonNode m = new ObjectMapper().readTree(metricsFile.toFile());
        int deadline = 0;
        int late = 0;
        for (JsonNode r : m.get("rounds")) {
            deadline += r.get("closedByDeadline").asBoolean() ? 1 : 0;
            late += r.get("lateApplied").asInt();
        }
        JsonNode once = m.get("exactly_once");
        int killed = (int) actions.stream().filter(a -> a.contains("kill device")).count();
        return new Outcome(m, killed, deadline, late, once.get("answered").asLong(), once.get("trained_once").asLong(),
                once.get("trained_twice").asLong(), List.copyOf(actions));
    }

    private static void act(ChurnEvent e, List<LocalNode> edges, List<LocalNode> gpus, List<Throttle> throttles, ScheduledExecutorService clock,
            List<String> actions, Consumer<String> out, long start) {
        try {
            switch (e.action()) {
                case "kill-device" -> edges.get(e.target()).kill();
                case "restart-device" -> edges.get(e.target()).restart();
                case "slow-device" -> throttles.get(e.target()).slowDown(e.value());
                case "kill-shard" -> {
                    // a shard's node: the last GPU node, so the first keeps the shards that move
                    LocalNode g = gpus.get(gpus.size() - 1);
                    g.kill();
                    clock.schedule(() -> {
                        try {
                            g.restart();
                        } catch (IOException ex) {
                            out.accept("could not start " + g.name() + " again: " + ex.getMessage());
                        }
                    }, (long) e.value(), TimeUnit.MILLISECONDS);
                }
                default -> throw new IllegalStateException(e.action());
            }
            String line = String.format(Locale.ROOT, "churn %8.3f s  %s", (System.nanoTime() - start) / 1e9,
                    e.action().equals("kill-shard") ? e.toString().replace("kill shard " + e.target(), "kill GPU node " + gpus.get(gpus.size() - 1).name()) : e);
            synchronized (actions) {
                actions.add(line);
            }
            out.accept(line);
        } catch (Exception ex) {
            out.accept("churn: " + e + " failed: " + ex);
        }
    }

    /** A node config: the cluster-config file for the role, this job's settings, and downing soon enough for one machine. */
    private static Path nodeConfig(Settings s, Config job, String role) throws IOException {
        Path base = s.clusterConfig().resolve(role + ".conf").toAbsolutePath();
        if (!Files.isRegularFile(base)) {
            throw new UserError("no " + base + ": --cluster-config must name splitfed's cluster-config directory");
        }
        String text = "include file(\"" + base.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\")\n"
                + "splitfed.data-root = " + job.getValue("splitfed.data-root").render(ConfigRenderOptions.concise()) + "\n"
                + "splitfed.job = " + job.getValue("splitfed.job").render(ConfigRenderOptions.concise()) + "\n"
                // a dead node is downed (and its shards or devices given up) 5 s after it went silent
                + "pekko.cluster.split-brain-resolver.stable-after = 5s\n";
        Path file = s.dir().resolve(role + ".conf");
        Files.writeString(file, text);
        return file;
    }

    private static LocalNode start(List<LocalNode> all, Settings s, String name, Path config, int port, String seed, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("--config", config.toString(), "--port", Integer.toString(port), "--seed-nodes", seed));
        args.addAll(List.of(extra));
        args.addAll(LocalNode.tls(s.dir().resolve("pki"), name)); // TLS between the processes, as between hosts
        LocalNode n = LocalNode.start(s.dir(), name, s.jvmOptions(), args);
        all.add(n);
        return n;
    }

    private static void ready(LocalNode n) throws IOException, InterruptedException {
        if (!n.awaitOutput("ready: roles", 1, 180_000)) {
            throw new IllegalStateException(n.name() + " did not start (" + n.log() + "):\n" + n.tail());
        }
    }
}
