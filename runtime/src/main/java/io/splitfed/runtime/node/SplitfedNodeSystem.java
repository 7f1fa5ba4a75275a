package io.splitfed.runtime.node;

import io.splitfed.actors.cluster.SplitfedNode;
import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.Callbacks;
import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.runtime.cli.UserError;
import io.splitfed.runtime.metrics.LiveMetrics;
import io.splitfed.runtime.metrics.MetricsEndpoint;

import com.typesafe.config.Config;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.StreamSupport;

/**
 * A splitfed node's ActorSystem, as {@code splitfed node} runs it: joined to the cluster within
 * its join timeout, registered with the job host, and ended when the job ends (on the job host's
 * node) or when no aggregator is left in the cluster (elsewhere). A start that fails says why.
 */
public final class SplitfedNodeSystem implements AutoCloseable {

    private final ActorSystem<Void> system;
    private final CompletableFuture<JobResult> result;
    private final CompletableFuture<Void> finished;
    private final CompletableFuture<String> abandoned;
    private final String jobHost;
    private final MetricsEndpoint metrics;

    private SplitfedNodeSystem(ActorSystem<Void> system, CompletableFuture<JobResult> result, CompletableFuture<Void> finished,
            CompletableFuture<String> abandoned, String jobHost, MetricsEndpoint metrics) {
        this.system = system;
        this.result = result;
        this.finished = finished;
        this.abandoned = abandoned;
        this.jobHost = jobHost;
        this.metrics = metrics;
    }

    public static SplitfedNodeSystem start(JobPlan plan, NodeSettings settings, Config config) throws Exception {
        CompletableFuture<SplitfedNode.Status> status = new CompletableFuture<>();
        CompletableFuture<JobResult> result = new CompletableFuture<>();
        CompletableFuture<Void> finished = new CompletableFuture<>();
        CompletableFuture<String> abandoned = new CompletableFuture<>();
        CompletableFuture<Void> joined = new CompletableFuture<>();
        boolean serveMetrics = settings.metricsPort() >= 0 && settings.roles().contains(SplitfedNode.AGGREGATOR);
        LiveMetrics live = serveMetrics ? new LiveMetrics() : null;
        var identity = KeyMaterial.identity(config); // under TLS: registrations signed, and checked against certificates' grants
        Behavior<Void> root = Behaviors.setup(ctx -> {
            ActorRef<SplitfedNode.Status> statusRef = ctx.spawn(Callbacks.<SplitfedNode.Status>to(s -> {
                if (s instanceof SplitfedNode.Status.Finished) {
                    finished.complete(null);
                } else if (s instanceof SplitfedNode.Status.Abandoned a) {
                    abandoned.complete(a.reason());
                } else {
                    status.complete(s);
                }
            }), "status");
            ActorRef<JobResult> resultRef = ctx.spawn(Callbacks.<JobResult>to(result::complete), "result");
            // the job host prints each round as it closes, as train does at the end
            boolean[] headed = {false};
            java.util.function.Consumer<JobEvent> rounds = e -> {
                if (e instanceof JobEvent.RoundClosed c) {
                    System.out.print((headed[0] ? "" : io.splitfed.runtime.report.Summary.header()) + io.splitfed.runtime.report.Summary.line(c.summary()));
                    System.out.flush();
                    headed[0] = true;
                }
                if (live != null) {
                    live.accept(e);
                }
            };
            ActorRef<JobEvent> events = settings.roles().contains(SplitfedNode.AGGREGATOR) ? ctx.spawn(Callbacks.<JobEvent>to(rounds), "job-events") : null;
            ctx.spawn(membership(joined), "membership");
            ctx.spawn(SplitfedNode.create(plan, new SplitfedNode.Node(settings.devices(), statusRef, resultRef, events,
                    settings.registrationTimeout(), identity)), "splitfed");
            return Behaviors.empty();
        });
        portFree(settings);
        ActorSystem<Void> system;
        HandshakeFailures handshakes = HandshakeFailures.watch();
        try {
            system = ActorSystem.create(root, "splitfed", config);
        } catch (RuntimeException e) {
            handshakes.close();
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UserError("could not start on " + settings.host() + ":" + settings.port() + " (splitfed.node.host, splitfed.node.port): "
                    + cause.getMessage());
        }
        try {
            joined.get(settings.joinTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            terminate(system);
            String tls = handshakes.first();
            throw new UserError("this node did not join the cluster within " + settings.joinTimeout().toSeconds() + " s: "
                    + (tls != null ? "TLS handshakes with the cluster failed (" + tls + "); are this node's stores (splitfed.node.tls, "
                            + "SPLITFED_KEYSTORE) made by the same splitfed certs directory as the seed node's?"
                            : "is a node up at splitfed.node.seed-nodes = " + settings.seedNodes() + "?"));
        } finally {
            handshakes.close();
        }
        SplitfedNode.Status s;
        try {
            // the answer, or the end of this node's system: it stops when the last aggregator leaves (a job that ended meanwhile)
            CompletableFuture.anyOf(status, system.getWhenTerminated().toCompletableFuture())
                    .get(settings.registrationTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            terminate(system);
            throw new UserError("no answer from the job host within " + settings.registrationTimeout().toSeconds() + " s (splitfed.node.registration-timeout)");
        }
        if (!status.isDone()) {
            throw new UserError("the job host left the cluster before it answered this node's registration (its job ended, or it stopped); "
                    + "this node has nothing to join");
        }
        s = status.get();
        if (s instanceof SplitfedNode.Status.Failed f) {
            terminate(system);
            throw new UserError(f.reason());
        }
        MetricsEndpoint endpoint = null;
        if (live != null) {
            try {
                endpoint = MetricsEndpoint.start(live, settings.host(), settings.metricsPort());
            } catch (UserError e) {
                terminate(system);
                throw e;
            }
            system.log().info("live metrics at {}, live page at {}", endpoint.url(), endpoint.pageUrl());
        }
        return new SplitfedNodeSystem(system, result, finished, abandoned, ((SplitfedNode.Status.Ready) s).jobHost(), endpoint);
    }

    /**
     * A port another process holds is said in one line before Pekko tries it (Pekko logs the bind
     * failure with its whole stack trace). The check binds and releases at once; a process that
     * takes the port in between is caught by Pekko's own failure, as before.
     */
    private static void portFree(NodeSettings settings) {
        if (settings.port() == 0) {
            return;
        }
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress(settings.host(), settings.port()));
        } catch (java.net.BindException e) {
            throw new UserError(settings.host() + ":" + settings.port() + " is in use by another process (splitfed.node.port, --port): "
                    + "stop it, or start this node on another port");
        } catch (java.io.IOException e) {
            throw new UserError("cannot listen on " + settings.host() + ":" + settings.port() + " (splitfed.node.host, splitfed.node.port): " + e.getMessage());
        }
    }

    /** Completes {@code joined} when this node is Up; stops the system when the last aggregator is gone. */
    private static Behavior<ClusterEvent.ClusterDomainEvent> membership(CompletableFuture<Void> joined) {
        return Behaviors.setup(ctx -> {
            Cluster cluster = Cluster.get(ctx.getSystem());
            Outbox.get(ctx.getSystem()).send(cluster.subscriptions(), Subscribe.create(ctx.getSelf(), ClusterEvent.ClusterDomainEvent.class));
            return Behaviors.receive(ClusterEvent.ClusterDomainEvent.class)
                    .onMessage(ClusterEvent.MemberUp.class, m -> {
                        if (m.member().equals(cluster.selfMember())) {
                            joined.complete(null);
                        }
                        return Behaviors.same();
                    })
                    .onMessage(ClusterEvent.MemberRemoved.class, m -> {
                        boolean aggregatorLeft = m.member().hasRole(SplitfedNode.AGGREGATOR);
                        boolean anyLeft = StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
                                .filter(x -> x.status() == MemberStatus.up())
                                .anyMatch((Member x) -> x.hasRole(SplitfedNode.AGGREGATOR));
                        if (aggregatorLeft && !anyLeft && joined.isDone()) {
                            ctx.getLog().info("no aggregator is left in the cluster; this node stops");
                            ctx.getSystem().terminate();
                        }
                        return Behaviors.same();
                    })
                    .onAnyMessage(m -> Behaviors.same())
                    .build();
        });
    }

    public String address() {
        return system.address().toString();
    }

    public String jobHost() {
        return jobHost;
    }

    /**
     * Waits for the end: the job's result on the job host's node; null elsewhere, once the job host
     * says the job finished or cannot go on, or the system stops (no aggregator left).
     */
    public JobResult awaitEnd() throws Exception {
        CompletableFuture<Object> end = CompletableFuture.anyOf(result, finished, abandoned, system.getWhenTerminated().toCompletableFuture());
        Object o = end.get();
        return o instanceof JobResult r ? r : null;
    }

    /** Whether the job host said that the job finished (on a node other than the job host's). */
    public boolean jobFinished() {
        return finished.isDone();
    }

    /** Why the job host gave the job up, or null. */
    public String abandonedBecause() {
        return abandoned.getNow(null);
    }

    /** The live metrics endpoint (job host's node with splitfed.node.metrics-port set), or null. */
    public MetricsEndpoint metrics() {
        return metrics;
    }

    @Override
    public void close() throws Exception {
        if (metrics != null) {
            metrics.close();
        }
        if (!stopped(system)) {
            throw new TimeoutException("the node's actor system did not stop within 60 s of close()");
        }
    }

    /**
     * Stops a node that will not run (refused, or not joined) before its one line is said. Leaving
     * the cluster can outlast the wait on a loaded host (the soak once saw more than 60 s while the
     * job trained on both cores); a slow leave must not replace the reason with a timeout, and the
     * command exits right after, which ends what is left.
     */
    private static void terminate(ActorSystem<Void> system) throws InterruptedException, ExecutionException {
        if (!stopped(system)) {
            system.log().info("this node's actor system is still stopping after 60 s; the reason it stops follows");
        }
    }

    /** Terminates {@code system}; whether it stopped within 60 s. */
    private static boolean stopped(ActorSystem<Void> system) throws InterruptedException, ExecutionException {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
            return true;
        } catch (TimeoutException slow) {
            return false;
        }
    }
}
