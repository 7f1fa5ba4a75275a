package io.splitfed.actors.cluster;

import io.splitfed.actors.aggregator.AggregationStrategy;
import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.server.ShardStore;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.actors.wire.WireMessage;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The embedding API: one behaviour that makes the ActorSystem it is spawned in a splitfed node,
 * according to the node's cluster roles ({@code pekko.cluster.roles}):
 *
 * <ul>
 *   <li>{@code device}: runs the device actors named in {@link Node#devices()}, each talking to its
 *       server shard through the shard region, and registers them with the job host;
 *   <li>{@code server}: hosts server shards (Cluster Sharding entities);
 *   <li>{@code aggregator}: may host the job host and the aggregator (cluster singletons).
 * </ul>
 *
 * Every node starts the sharding region (or its proxy) and the singleton proxies, whatever its
 * roles. The host's own serializers and settings are untouched: splitfed only adds the binding of
 * its {@link WireMessage}s to its Kryo serializer. Spawn it once per ActorSystem:
 *
 * <pre>{@code
 * ctx.spawn(SplitfedNode.create(plan, SplitfedNode.Node.of(List.of(0, 1), status)), "splitfed");
 * }</pre>
 */
public final class SplitfedNode {

    public static final String DEVICE = "device";
    public static final String SERVER = "server";
    public static final String AGGREGATOR = "aggregator";
    public static final Set<String> ROLES = Set.of(DEVICE, SERVER, AGGREGATOR);

    private SplitfedNode() {}

    /**
     * What this node runs beyond its roles.
     *
     * @param devices device ids this node hosts (device role)
     * @param status told {@link Status.Ready} once registered, {@link Status.Failed} with the reason otherwise; may be null
     * @param result on the job host's node, gets the job's result; may be null
     * @param events on the job host's node, gets the job's events; may be null
     * @param registrationTimeout how long to wait for the job host to answer a registration
     * @param identity under TLS, this node's key and certificate (to sign its registrations) and the
     *     cluster's CA (for the job host to check others'); null without TLS
     */
    public record Node(List<Integer> devices, ActorRef<Status> status, ActorRef<JobResult> result, ActorRef<JobEvent> events,
            Duration registrationTimeout, NodeIdentity identity) {

        public static Node of(List<Integer> devices, ActorRef<Status> status) {
            return new Node(devices, status, null, null, Duration.ofSeconds(60), null);
        }

        public Node withResult(ActorRef<JobResult> result, ActorRef<JobEvent> events) {
            return new Node(devices, status, result, events, registrationTimeout, identity);
        }

        public Node withRegistrationTimeout(Duration timeout) {
            return new Node(devices, status, result, events, timeout, identity);
        }
    }

    /** How the node's start went; told on the node itself. */
    public sealed interface Status extends NoSerializationVerificationNeeded {
        record Ready(Set<String> roles, List<Integer> devices, String jobHost) implements Status {}

        record Failed(String reason) implements Status {}

        /** The job host said the job finished. */
        record Finished() implements Status {}

        /** The job host said the job cannot go on, and why. */
        record Abandoned(String reason) implements Status {}
    }

    /** Internal: registration answers and the timeout; never leave the node. */
    interface Command extends NoSerializationVerificationNeeded {}

    private record Answer(ClusterProtocol.Registration registration) implements Command {}

    private enum RegistrationTimeout implements Command { INSTANCE }

    public static Behavior<Command> create(JobPlan plan, Node node) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            Set<String> roles = Cluster.get(ctx.getSystem()).selfMember().getRoles();
            Set<String> ours = new HashSet<>(roles);
            ours.retainAll(ROLES);
            String where = ctx.getSystem().address().toString();
            if (ours.isEmpty()) {
                return fail(ctx, node, "node " + where + " has none of the roles " + ROLES + " in pekko.cluster.roles (it has " + roles + ")");
            }
            if (ours.contains(DEVICE) && node.devices().isEmpty()) {
                return fail(ctx, node, "node " + where + " has role device but splitfed.node.devices names no device");
            }
            for (int d : ours.contains(DEVICE) ? node.devices() : List.<Integer>of()) {
                if (d < 0 || d >= plan.job().devices()) {
                    return fail(ctx, node, "splitfed.node.devices names device " + d + " but the job has devices 0.." + (plan.job().devices() - 1));
                }
            }
            ClusterSingleton singletons = ClusterSingleton.get(ctx.getSystem());
            ActorRef<ShardStore.Command> store = singletons.init(SingletonActor.of(ShardStore.create(), "splitfed-shard-store")
                    .withSettings(ClusterSingletonSettings.create(ctx.getSystem()).withRole(AGGREGATOR)));
            ServerShards.init(ctx.getSystem(), plan, SERVER, store);
            ActorRef<Aggregator.Command> aggregator = singletons.init(SingletonActor.of(
                    Aggregator.create(AggregationStrategy.parse(plan.spec().federation().aggregation())), "splitfed-aggregator")
                    .withSettings(ClusterSingletonSettings.create(ctx.getSystem()).withRole(AGGREGATOR)));
            ActorRef<ClusterProtocol> jobHost = singletons.init(SingletonActor.of(
                    JobHost.create(plan, aggregator, store, node.events(), node.result(), node.identity()), "splitfed-job-host")
                    .withSettings(ClusterSingletonSettings.create(ctx.getSystem()).withRole(AGGREGATOR)));

            ActorRef<ClusterProtocol.Registration> answers = ctx.messageAdapter(ClusterProtocol.Registration.class, Answer::new);
            JobFingerprint fingerprint = JobFingerprint.of(plan.spec());
            Registrations registrations = new Registrations(ctx, node, ours, jobHost);
            if (ours.contains(DEVICE)) {
                for (int d : node.devices()) {
                    var route = plan.shards() == 0 ? null : ctx.spawn(ShardRoute.create(plan.shardOf().get(d)), "shard-route-for-" + d);
                    ActorRef<DeviceActor.Command> device = ctx.spawn(DeviceActor.create(plan.deviceState(d).routeThrough(route)), "device-" + d);
                    var credential = node.identity() == null ? null : node.identity().sign(where, DEVICE + " " + d);
                    registrations.offers.add(again -> new ClusterProtocol.RegisterDevice(d, device, fingerprint, where, again, answers, credential));
                }
            }
            if (ours.contains(SERVER)) {
                var credential = node.identity() == null ? null : node.identity().sign(where, SERVER);
                registrations.offers.add(again -> new ClusterProtocol.RegisterServer(fingerprint, where, answers, credential));
            }
            if (registrations.offers.isEmpty()) {
                // an aggregator node and nothing else: a standby for the job host, told when the job ends
                var credential = node.identity() == null ? null : node.identity().sign(where, AGGREGATOR);
                registrations.offers.add(again -> new ClusterProtocol.RegisterStandby(fingerprint, where, answers, credential));
            }
            registrations.send(false);
            timers.startSingleTimer(RegistrationTimeout.INSTANCE, node.registrationTimeout());
            return registrations.registering(registrations.offers.size());
        }));
    }

    /** The job host was lost: the node registers again with the one that takes over. */
    private record HostLost(ActorRef<ClusterProtocol> host) implements Command {}

    /**
     * What this node offers the job host (its devices, its server role, or itself as a standby),
     * sent again whenever the job host it registered with is lost.
     */
    private static final class Registrations {

        final List<java.util.function.Function<Boolean, ClusterProtocol>> offers = new java.util.ArrayList<>();
        private final ActorContext<Command> ctx;
        private final Node node;
        private final Set<String> roles;
        private final ActorRef<ClusterProtocol> jobHost;
        private final Set<ActorRef<ClusterProtocol>> watched = new HashSet<>();

        Registrations(ActorContext<Command> ctx, Node node, Set<String> roles, ActorRef<ClusterProtocol> jobHost) {
            this.ctx = ctx;
            this.node = node;
            this.roles = roles;
            this.jobHost = jobHost;
        }

        void send(boolean again) {
            offers.forEach(o -> Outbox.get(ctx.getSystem()).send(jobHost, o.apply(again)));
        }

        /** Waits for the answers to the first registrations. */
        Behavior<Command> registering(int waiting) {
            return Behaviors.receive(Command.class)
                    .onMessage(Answer.class, a -> {
                        if (a.registration() instanceof ClusterProtocol.Refused r) {
                            return fail(ctx, node, "the job host refused this node: " + r.reason());
                        }
                        if (!(a.registration() instanceof ClusterProtocol.Accepted accepted)) {
                            return Behaviors.same();
                        }
                        watch(accepted.host());
                        if (waiting == 1) {
                            ready(ctx, node, roles, accepted.jobHost());
                            return registered();
                        }
                        return registering(waiting - 1);
                    })
                    .onMessageEquals(RegistrationTimeout.INSTANCE, () -> fail(ctx, node, "no job host answered within "
                            + node.registrationTimeout().toSeconds() + " s: is a node with role aggregator up and in the cluster, "
                            + "and do pekko.cluster.seed-nodes (splitfed.cluster.seed-nodes) point at it?"))
                    .build();
        }

        /** Registered: waits for the end of the job, and registers again with a job host that takes over. */
        Behavior<Command> registered() {
            return Behaviors.receive(Command.class)
                    .onMessage(Answer.class, a -> {
                        if (a.registration() instanceof ClusterProtocol.Accepted accepted) {
                            watch(accepted.host());
                        } else if (a.registration() instanceof ClusterProtocol.Finished) {
                            tell(new Status.Finished());
                            return Behaviors.ignore();
                        } else if (a.registration() instanceof ClusterProtocol.Abandoned ab) {
                            ctx.getLog().error(ab.reason());
                            tell(new Status.Abandoned(ab.reason()));
                            return Behaviors.ignore();
                        } else if (a.registration() instanceof ClusterProtocol.Refused r) {
                            ctx.getLog().error("the job host that took over refused this node: {}", r.reason());
                        }
                        return Behaviors.same();
                    })
                    .onMessage(HostLost.class, m -> !m.host().path().address().hasLocalScope(), m -> {
                        // (a job host on this node stops only when this node does)
                        ctx.getLog().warn("the job host at {} was lost; registering with the aggregator node that takes over",
                                m.host().path().address());
                        watched.remove(m.host());
                        send(true);
                        return Behaviors.same();
                    })
                    .onAnyMessage(m -> Behaviors.same())
                    .build();
        }

        private void watch(ActorRef<ClusterProtocol> host) {
            if (watched.add(host)) {
                ctx.watchWith(host, new HostLost(host));
            }
        }

        private void tell(Status s) {
            if (node.status() != null) {
                Outbox.get(ctx.getSystem()).send(node.status(), s);
            }
        }
    }

    private static void ready(ActorContext<?> ctx, Node node, Set<String> roles, String jobHost) {
        if (node.status() != null) {
            Outbox.get(ctx.getSystem()).send(node.status(), new Status.Ready(roles, node.devices(), jobHost));
        }
    }

    private static Behavior<Command> fail(ActorContext<Command> ctx, Node node, String reason) {
        ctx.getLog().error(reason);
        if (node.status() != null) {
            Outbox.get(ctx.getSystem()).send(node.status(), new Status.Failed(reason));
        }
        return Behaviors.stopped();
    }
}
