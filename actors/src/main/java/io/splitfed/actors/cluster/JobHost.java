package io.splitfed.actors.cluster;

import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.checkpoint.Checkpoints;
import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.coordinator.RoundCoordinator;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.server.ShardStore;
import io.splitfed.actors.wire.Outbox;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The job's home, a cluster singleton on the aggregator role: it admits device, server and
 * standby aggregator nodes whose job settings match its own, starts the round coordinator once
 * every device has registered, and takes back a device whose node comes back. Registrations with
 * different settings are refused with the setting that differs. When the node hosting it dies,
 * the singleton starts again on another aggregator node; the nodes register with it again, and it
 * resumes the job from the newest checkpoint.
 */
public final class JobHost {

    private JobHost() {}

    public static Behavior<ClusterProtocol> create(JobPlan plan, ActorRef<Aggregator.Command> aggregator, ActorRef<ShardStore.Command> store,
            ActorRef<JobEvent> listener, ActorRef<JobResult> replyTo) {
        return create(plan, aggregator, store, listener, replyTo, null);
    }

    /** As above; with {@code identity} (TLS), a registration is accepted only for the roles and devices its certificate names. */
    public static Behavior<ClusterProtocol> create(JobPlan plan, ActorRef<Aggregator.Command> aggregator, ActorRef<ShardStore.Command> store,
            ActorRef<JobEvent> listener, ActorRef<JobResult> replyTo, NodeIdentity identity) {
        return Behaviors.setup(ctx -> {
            JobFingerprint mine = JobFingerprint.of(plan.spec());
            List<ActorRef<ServerShard.Command>> shards = new ArrayList<>();
            for (int s = 0; s < plan.shards(); s++) {
                shards.add(ctx.spawn(ShardRoute.create(s), "shard-route-" + s));
            }
            Map<Integer, ActorRef<DeviceActor.Command>> devices = new TreeMap<>();
            List<ActorRef<RoundCoordinator.Command>> coordinator = new ArrayList<>(1);
            List<ActorRef<ClusterProtocol.Registration>> registrants = new ArrayList<>();
            boolean[] takingOver = {false};
            DeviceClaims claims = new DeviceClaims();
            String self = ctx.getSystem().address().toString();
            return Behaviors.receive(ClusterProtocol.class)
                    .onMessage(ClusterProtocol.RegisterServer.class, m -> {
                        admit("server node " + m.node(), withIdentity(m.fingerprint().differences(mine), identity, m.credential(), m.replyTo(),
                                SplitfedNode.SERVER, -1, ctx), m.replyTo(), registrants, ctx, self);
                        return Behaviors.same();
                    })
                    .onMessage(ClusterProtocol.RegisterStandby.class, m -> {
                        admit("aggregator node " + m.node(), withIdentity(m.fingerprint().differences(mine), identity, m.credential(), m.replyTo(),
                                SplitfedNode.AGGREGATOR, -1, ctx), m.replyTo(), registrants, ctx, self);
                        return Behaviors.same();
                    })
                    .onMessage(ClusterProtocol.RegisterDevice.class, m -> {
                        List<String> diff = withIdentity(m.fingerprint().differences(mine), identity, m.credential(), m.ref(), SplitfedNode.DEVICE,
                                m.device(), ctx);
                        if (m.device() < 0 || m.device() >= plan.job().devices()) {
                            diff.add("splitfed.node.devices names device " + m.device() + " but the job has devices 0.." + (plan.job().devices() - 1));
                        }
                        String taken = diff.isEmpty()
                                ? DeviceClaims.conflict(m.device(), devices.get(m.device()), m.ref(), devices, ctx.getSystem()) : null;
                        if (taken != null) {
                            if (claims.warnAbout(m.node())) {
                                ctx.getLog().warn("refusing node {}, which claims a device another node holds: {} (warned once a minute per node)",
                                        m.node(), taken);
                            }
                            Outbox.get(ctx.getSystem()).send(m.replyTo(), new ClusterProtocol.Refused(taken));
                            return Behaviors.same();
                        }
                        if (!admit("device " + m.device() + " from " + m.node(), diff, m.replyTo(), registrants, ctx, self)) {
                            return Behaviors.same();
                        }
                        boolean again = devices.containsKey(m.device());
                        devices.put(m.device(), m.ref());
                        takingOver[0] |= m.again() && coordinator.isEmpty();
                        if (!coordinator.isEmpty()) {
                            if (again) {
                                Outbox.get(ctx.getSystem()).send(coordinator.get(0), new RoundCoordinator.DeviceRejoined(m.device(), m.ref()));
                            }
                        } else if (devices.size() == plan.job().devices()) {
                            JobCheckpoint resume;
                            try {
                                resume = resumeFrom(plan, takingOver[0], shards, store, ctx);
                            } catch (IllegalStateException | IllegalArgumentException e) {
                                ctx.getLog().error(e.getMessage());
                                registrants.forEach(r -> Outbox.get(ctx.getSystem()).send(r, new ClusterProtocol.Abandoned(e.getMessage())));
                                return Behaviors.same();
                            }
                            ctx.getLog().info("all {} devices registered; starting the job", devices.size());
                            coordinator.add(ctx.spawn(RoundCoordinator.create(plan.coordinatorSettings(devices, shards, aggregator, listener,
                                    ctx.messageAdapter(JobResult.class, ClusterProtocol.JobDone::new),
                                    plan.planner(false, null), resume)), "coordinator"));
                            // a shard whose node died starts again from its round's start: the coordinator rewinds its devices
                            Outbox.get(ctx.getSystem()).send(store, new ShardStore.Watch(RoundCoordinator.LOST_SHARDS.replyTo(coordinator.get(0))));
                            Outbox.get(ctx.getSystem()).send(coordinator.get(0), RoundCoordinator.Start.INSTANCE);
                        } else {
                            ctx.getLog().info("device {} registered from {} ({} of {})", m.device(), m.node(), devices.size(), plan.job().devices());
                        }
                        return Behaviors.same();
                    })
                    .onMessage(ClusterProtocol.JobDone.class, m -> {
                        // every other node learns that the job finished, so that it ends with success (not as one that lost
                        // its job host); this node gets the result itself
                        registrants.stream().filter(r -> !r.path().address().hasLocalScope()).forEach(r -> Outbox.get(ctx.getSystem()).send(r, new ClusterProtocol.Finished()));
                        Outbox.get(ctx.getSystem()).send(replyTo, m.result());
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    /**
     * {@code diff} with the reason the registrant's certificate does not grant {@code role} (and
     * {@code device}) added, under TLS; the address checked is the one its message came from.
     */
    private static List<String> withIdentity(List<String> diff, NodeIdentity identity, NodeIdentity.Credential credential, ActorRef<?> from,
            String role, int device, org.apache.pekko.actor.typed.javadsl.ActorContext<ClusterProtocol> ctx) {
        List<String> out = new ArrayList<>(diff);
        if (identity != null) {
            var address = from.path().address().hasLocalScope() ? ctx.getSystem().address() : from.path().address();
            String refused = identity.refusal(credential, address.toString(), role, device);
            if (refused != null) {
                out.add(refused);
            }
        }
        return out;
    }

    /** Accepts a registration whose settings match, or refuses it naming what differs; true when accepted. */
    private static boolean admit(String who, List<String> diff, ActorRef<ClusterProtocol.Registration> replyTo,
            List<ActorRef<ClusterProtocol.Registration>> registrants, org.apache.pekko.actor.typed.javadsl.ActorContext<ClusterProtocol> ctx, String self) {
        if (!diff.isEmpty()) {
            ctx.getLog().error("refusing {}: {}", who, String.join("; ", diff));
            Outbox.get(ctx.getSystem()).send(replyTo, new ClusterProtocol.Refused(String.join("; ", diff)));
            return false;
        }
        Outbox.get(ctx.getSystem()).send(replyTo, new ClusterProtocol.Accepted(self, ctx.getSelf()));
        registrants.add(replyTo);
        return true;
    }

    /**
     * The checkpoint the job goes on from: the newest in the checkpoint directory when the job is
     * resumed, or when this job host takes over from a lost one (then one must exist). Shards get
     * their snapshots from it: kept in the store for new incarnations, and sent to running ones
     * (through the routes the coordinator uses next, so they arrive first).
     */
    private static JobCheckpoint resumeFrom(JobPlan plan, boolean takingOver, List<ActorRef<ServerShard.Command>> shards,
            ActorRef<ShardStore.Command> store, org.apache.pekko.actor.typed.javadsl.ActorContext<ClusterProtocol> ctx) {
        var checkpoints = plan.spec().checkpoint();
        if (!checkpoints.resume() && !takingOver) {
            return null;
        }
        JobCheckpoint resume = checkpoints.enabled() ? Checkpoints.latest(ctx.getSystem(), checkpoints.dir(), checkpoints.job()) : null;
        if (resume == null && takingOver) {
            throw new IllegalStateException("the job host was lost and this one, taking over, has no checkpoint to resume from in "
                    + (checkpoints.enabled() ? checkpoints.dir() : "splitfed.job.checkpoint.dir (empty)")
                    + ": set splitfed.job.checkpoint.dir to a directory every aggregator node can read, and start the job again");
        }
        if (resume == null) {
            ctx.getLog().warn("no checkpoint in {}; starting from round 0", checkpoints.dir());
            return null;
        }
        if (takingOver) {
            ctx.getLog().warn("taking over the job from the checkpoint after round {} in {}: the job host before this one was lost",
                    resume.roundsDone(), checkpoints.dir());
        } else {
            ctx.getLog().info("resuming the job from the checkpoint after round {} in {}", resume.roundsDone(), checkpoints.dir());
        }
        resume.shards().values().forEach(s -> Outbox.get(ctx.getSystem()).send(store, new ShardStore.Keep(s)));
        resume.shards().forEach((s, snap) -> {
            if (s >= 0 && s < shards.size()) {
                Outbox.get(ctx.getSystem()).send(shards.get(s), new ServerShard.Reset(snap));
            }
        });
        return resume;
    }
}
