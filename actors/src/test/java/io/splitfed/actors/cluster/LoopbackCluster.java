package io.splitfed.actors.cluster;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.Callbacks;
import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.testing.TestJobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Nodes of one job as separate ActorSystems on 127.0.0.1 ports in this JVM: every message
 * between them goes through Artery TCP and splitfed's Kryo serializer, and local messages are
 * serialized too (serialize-messages).
 */
final class LoopbackCluster implements AutoCloseable {

    final Config job;
    final int seedPort;
    final List<ActorSystem<Void>> systems = new ArrayList<>();
    final CompletableFuture<JobResult> result = new CompletableFuture<>();
    final List<JobEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();

    LoopbackCluster(Config job) throws IOException {
        this.job = job;
        this.seedPort = freePort();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Config nodeConfig(int port, int seedPort, List<String> roles, Config job) {
        String conf = "pekko.actor.provider = cluster\n"
                + "pekko.actor.serialize-messages = on\n"
                + "pekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                + "pekko.remote.artery.canonical.port = " + port + "\n"
                + "pekko.cluster.seed-nodes = [\"pekko://splitfed@127.0.0.1:" + seedPort + "\"]\n"
                + "pekko.cluster.roles = [" + String.join(",", roles) + "]\n"
                + "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                + "pekko.coordinated-shutdown.terminate-actor-system = on\n"
                + "pekko.cluster.downing-provider-class = \"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"\n"
                + "pekko.cluster.split-brain-resolver.stable-after = 5s\n";
        // rebalance soon, unless the job's config says otherwise
        return ConfigFactory.parseString(conf).withFallback(job).withFallback(ConfigFactory.parseString("pekko.cluster.sharding.rebalance-interval = 2s"));
    }

    /** Starts a node with {@code roles}, hosting {@code devices}; the first node started is the seed. */
    ActorSystem<Void> start(List<String> roles, List<Integer> devices, int port) throws Exception {
        return start(roles, devices, port, ConfigFactory.empty());
    }

    /** As above, with {@code extra} over the node's config (a node to crash: no coordinated shutdown on terminate). */
    ActorSystem<Void> start(List<String> roles, List<Integer> devices, int port, Config extra) throws Exception {
        Config config = extra.withFallback(nodeConfig(port, seedPort, roles, job));
        JobPlan plan = new JobPlan(TestJobs.prepare(config));
        CompletableFuture<SplitfedNode.Status> status = new CompletableFuture<>();
        Behavior<Void> root = Behaviors.setup(ctx -> {
            ActorRef<SplitfedNode.Status> statusRef = ctx.spawn(Callbacks.<SplitfedNode.Status>to(status::complete), "status");
            ActorRef<JobResult> resultRef = ctx.spawn(Callbacks.<JobResult>to(result::complete), "result");
            ActorRef<JobEvent> eventRef = ctx.spawn(Callbacks.<JobEvent>to(events::add), "events");
            ctx.spawn(SplitfedNode.create(plan, SplitfedNode.Node.of(devices, statusRef).withResult(resultRef, eventRef)
                    .withRegistrationTimeout(Duration.ofSeconds(60))), "splitfed");
            return Behaviors.empty();
        });
        ActorSystem<Void> system = ActorSystem.create(root, "splitfed", config);
        systems.add(system);
        if (!roles.contains(SplitfedNode.AGGREGATOR)) {
            SplitfedNode.Status s = status.get(90, TimeUnit.SECONDS);
            if (s instanceof SplitfedNode.Status.Failed f) {
                throw new IllegalStateException(f.reason());
            }
        }
        return system;
    }

    ActorSystem<Void> start(List<String> roles, List<Integer> devices) throws Exception {
        return start(roles, devices, systems.isEmpty() ? seedPort : freePort());
    }

    @Override
    public void close() throws Exception {
        for (int i = systems.size() - 1; i >= 0; i--) {
            systems.get(i).terminate();
        }
        for (ActorSystem<Void> s : systems) {
            s.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
