package io.splitfed.actors.coordinator;

import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.server.ServerShard;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;

/**
 * Where the job's members are: each device's current actor (a rejoin replaces it) and each shard's
 * current worker (a replaced shard's new one). Which devices are gone is the {@link RoundPolicy}'s.
 */
final class Membership {

    private final Map<Integer, ActorRef<DeviceActor.Command>> devices;
    private final List<ActorRef<ServerShard.Command>> shards;
    private final Map<Integer, Integer> shardOf;
    private final Map<Integer, Long> rejoinedAt = new java.util.HashMap<>();
    /** How long after a rejoin a Terminated for the new incarnation may be Pekko's spurious one. */
    private static final long SPURIOUS_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

    Membership(CoordinatorSettings settings) {
        this.devices = new LinkedHashMap<>(settings.devices());
        this.shards = new ArrayList<>(settings.shards());
        this.shardOf = settings.shardOf();
    }

    Map<Integer, ActorRef<DeviceActor.Command>> devices() {
        return devices;
    }

    ActorRef<DeviceActor.Command> device(int d) {
        return devices.get(d);
    }

    List<ActorRef<ServerShard.Command>> shards() {
        return shards;
    }

    /** The worker that serves {@code device}; null when the job has no server shards. */
    ActorRef<ServerShard.Command> shardFor(int device) {
        return shards.isEmpty() ? null : shards.get(shardOf.get(device));
    }

    /** Whether {@code ref} is {@code device}'s current actor (not an incarnation a rejoin replaced). */
    boolean current(int device, ActorRef<DeviceActor.Command> ref) {
        return ref.equals(devices.get(device));
    }

    void rejoined(int device, ActorRef<DeviceActor.Command> ref) {
        devices.put(device, ref);
        rejoinedAt.put(device, System.nanoTime());
    }

    /**
     * Whether a Terminated for {@code device}'s current actor {@code ref} is the spurious one Pekko
     * sends at once for a node that came back at a removed address: it came within seconds of the
     * rejoin, and the device's node is in the cluster (see {@link #nodeUp}).
     */
    boolean spuriousTermination(ActorSystem<?> system, int device, ActorRef<DeviceActor.Command> ref) {
        Long at = rejoinedAt.get(device);
        return at != null && System.nanoTime() - at < SPURIOUS_NANOS && nodeUp(system, ref);
    }

    void shardReplaced(int shard, ActorRef<ServerShard.Command> ref) {
        shards.set(shard, ref);
    }

    /**
     * Whether {@code ref} lives on a cluster node that is joining or up now (false outside a cluster,
     * and for local actors). Pekko's remote watch remembers an address the cluster removed: a device
     * that comes back at the address of its crashed node is reported Terminated at once, although
     * its node is in the cluster. Such a Terminated is ignored.
     */
    static boolean nodeUp(ActorSystem<?> system, ActorRef<?> ref) {
        String provider = system.settings().config().getString("pekko.actor.provider");
        var address = ref.path().address();
        if (!(provider.equals("cluster") || provider.endsWith("ClusterActorRefProvider")) || !address.hasGlobalScope()
                || address.equals(system.address())) {
            return false;
        }
        return StreamSupport.stream(Cluster.get(system).state().getMembers().spliterator(), false)
                .anyMatch(m -> m.address().equals(address)
                        && (m.status() == MemberStatus.up() || m.status() == MemberStatus.joining() || m.status() == MemberStatus.weaklyUp()));
    }

    /** The devices not {@code gone}, with their actors. */
    Map<Integer, ActorRef<DeviceActor.Command>> present(java.util.function.IntPredicate gone) {
        Map<Integer, ActorRef<DeviceActor.Command>> here = new LinkedHashMap<>(devices);
        here.keySet().removeIf(gone::test);
        return here;
    }
}
