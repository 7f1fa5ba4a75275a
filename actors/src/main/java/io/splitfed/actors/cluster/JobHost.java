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
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.Wire;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The job's home, a cluster singleton on the aggregator role: it admits device and server nodes
 * whose job settings match its own, starts the round coordinator once every device has
 * registered, and takes back a device whose node comes back. Registrations with different
 * settings are refused with the setting that differs.
 */
public final class JobHost {

    private JobHost() {}

    public static Behavior<ClusterProtocol> create(JobPlan plan, ActorRef<Aggregator.Command> aggregator, ActorRef<ShardStore.Command> store,
            ActorRef<JobEvent> listener, ActorRef<JobResult> replyTo) {
        return Behaviors.setup(ctx -> {
            // resuming: the shards start from the checkpoint's snapshots in the store, the coordinator from the rest
            JobCheckpoint resume = plan.spec().checkpoint().resume() ? Checkpoints.latest(ctx.getSystem(), plan.spec().checkpoint().dir()) : null;
            if (resume != null) {
                ctx.getLog().info("resuming the job from the checkpoint after round {} in {}", resume.roundsDone(), plan.spec().checkpoint().dir());
                resume.shards().values().forEach(s -> Wire.tell(ctx.getSystem(), store, new ShardStore.Keep(s)));
            } else if (plan.spec().checkpoint().resume()) {
                ctx.getLog().warn("no checkpoint in {}; starting from round 0", plan.spec().checkpoint().dir());
            }
            JobFingerprint mine = JobFingerprint.of(plan.spec());
            List<ActorRef<ServerShard.Command>> shards = new ArrayList<>();
            for (int s = 0; s < plan.shards(); s++) {
                shards.add(ctx.spawn(ShardRoute.create(s), "shard-route-" + s));
            }
            Map<Integer, ActorRef<DeviceActor.Command>> devices = new TreeMap<>();
            List<ActorRef<RoundCoordinator.Command>> coordinator = new ArrayList<>(1);
            List<ActorRef<ClusterProtocol.Registration>> registrants = new ArrayList<>();
            String self = ctx.getSystem().address().toString();
            return Behaviors.receive(ClusterProtocol.class)
                    .onMessage(ClusterProtocol.RegisterServer.class, m -> {
                        List<String> diff = m.fingerprint().differences(mine);
                        if (!diff.isEmpty()) {
                            ctx.getLog().error("refusing server node {}: {}", m.node(), String.join("; ", diff));
                            m.replyTo().tell(new ClusterProtocol.Refused(String.join("; ", diff)));
                        } else {
                            m.replyTo().tell(new ClusterProtocol.Accepted(self));
                            registrants.add(m.replyTo());
                        }
                        return Behaviors.same();
                    })
                    .onMessage(ClusterProtocol.RegisterDevice.class, m -> {
                        List<String> diff = m.fingerprint().differences(mine);
                        if (m.device() < 0 || m.device() >= plan.job().devices()) {
                            diff = new ArrayList<>(diff);
                            diff.add("splitfed.node.devices names device " + m.device() + " but the job has devices 0.." + (plan.job().devices() - 1));
                        }
                        if (!diff.isEmpty()) {
                            ctx.getLog().error("refusing device {} from {}: {}", m.device(), m.node(), String.join("; ", diff));
                            m.replyTo().tell(new ClusterProtocol.Refused(String.join("; ", diff)));
                            return Behaviors.same();
                        }
                        boolean again = devices.containsKey(m.device());
                        devices.put(m.device(), m.ref());
                        m.replyTo().tell(new ClusterProtocol.Accepted(self));
                        registrants.add(m.replyTo());
                        if (!coordinator.isEmpty()) {
                            if (again) {
                                coordinator.get(0).tell(new RoundCoordinator.DeviceRejoined(m.device(), m.ref()));
                            }
                        } else if (devices.size() == plan.job().devices()) {
                            ctx.getLog().info("all {} devices registered; starting the job", devices.size());
                            coordinator.add(ctx.spawn(RoundCoordinator.create(plan.coordinatorSettings(devices, shards, aggregator, listener,
                                    ctx.messageAdapter(JobResult.class, ClusterProtocol.JobDone::new),
                                    plan.planner(false), resume)), "coordinator"));
                            // a shard whose node died starts again from its round's start: the coordinator rewinds its devices
                            store.tell(new ShardStore.Watch(Inbound.replyTo(coordinator.get(0))));
                            coordinator.get(0).tell(RoundCoordinator.Start.INSTANCE);
                        } else {
                            ctx.getLog().info("device {} registered from {} ({} of {})", m.device(), m.node(), devices.size(), plan.job().devices());
                        }
                        return Behaviors.same();
                    })
                    .onMessage(ClusterProtocol.JobDone.class, m -> {
                        // every node learns that the job finished, so that it ends with success (not as one that lost its job host)
                        registrants.forEach(r -> r.tell(new ClusterProtocol.Finished()));
                        replyTo.tell(m.result());
                        return Behaviors.same();
                    })
                    .build();
        });
    }
}
