package io.splitfed.actors.coordinator;

import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.server.ServerShard;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.StreamSupport;

/**
 * Who is in the job and where: each device's current actor (a rejoin replaces it), the devices that
 * have gone, and each shard's current worker (a replaced shard's new one).
 */
final class Membership {

    private final Map<Integer, ActorRef<DeviceActor.Command>> devices;
    private final List<ActorRef<ServerShard.Command>> shards;
    private final Map<Integer, Integer> shardOf;
    private final Set<Integer> gone = new TreeSet<>();
    private final Map<Integer, Long> rejoinedAt = new java.util.HashMap<>();
    /** How long after a rejoin a Terminated for the new incarnation may be Pekko's spurious one. */
    private static final long SPURIOUS_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

    Membership(CoordinatorSettings settings, Collection<Integer> goneBefore) {
        this.devices = new LinkedHashMap<>(settings.devices());
        this.shards = new ArrayList<>(settings.shards());
        this.shardOf = settings.shardOf();
        gone.addAll(goneBefore);
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

    boolean servedBy(int device, int shard) {
        return shardOf.get(device) == shard;
    }

    /** Whether {@code ref} is {@code device}'s current actor (not an incarnation a rejoin replaced). */
    boolean current(int device, ActorRef<DeviceActor.Command> ref) {
        return ref.equals(devices.get(device));
    }

    boolean gone(int device) {
        return gone.contains(device);
    }

    void left(int device) {
        gone.add(device);
    }

    void rejoined(int device, ActorRef<DeviceActor.Command> ref) {
        devices.put(device, ref);
        gone.remove(device);
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

    Set<Integer> goneDevices() {
        return new TreeSet<>(gone);
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

    /** The devices still here, with their actors. */
    Map<Integer, ActorRef<DeviceActor.Command>> present() {
        Map<Integer, ActorRef<DeviceActor.Command>> here = new LinkedHashMap<>(devices);
        here.keySet().removeAll(gone);
        return here;
    }
}
