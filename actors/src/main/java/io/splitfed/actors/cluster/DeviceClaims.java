package io.splitfed.actors.cluster;

import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A device id belongs to one live node. A second node claiming it while the holder is still a
 * reachable member (a copied {@code SPLITFED_DEVICES}, say) is an impostor and is refused; a claim
 * from the holder's own address (the same node registering again, or restarted on its port), or
 * after the holder left, was downed or became unreachable, is a rejoin.
 */
final class DeviceClaims {

    private static final long WARN_EVERY_NANOS = 60_000_000_000L;
    private final Map<String, Long> warned = new HashMap<>();

    /**
     * Why {@code claimant} may not take {@code device} from {@code holder} (null: it may).
     *
     * @param held every device the job host has, by id, for naming the holder's devices
     */
    static String conflict(int device, ActorRef<?> holder, ActorRef<?> claimant, Map<Integer, ? extends ActorRef<?>> held, ActorSystem<?> system) {
        if (holder == null) {
            return null;
        }
        Address holderNode = node(holder, system);
        if (holderNode.equals(node(claimant, system)) || !live(holderNode, system)) {
            return null;
        }
        Set<Integer> devices = new TreeSet<>();
        held.forEach((d, ref) -> {
            if (node(ref, system).equals(holderNode)) {
                devices.add(d);
            }
        });
        return "device " + device + " belongs to node " + holderNode + ", which is live and holds devices " + devices
                + "; a device id belongs to one node (is splitfed.node.devices / SPLITFED_DEVICES copied from that node?)";
    }

    /** True when a warning about {@code claimant} is due: once a minute per claiming node. */
    boolean warnAbout(String claimant) {
        long now = System.nanoTime();
        Long last = warned.get(claimant);
        if (last != null && now - last < WARN_EVERY_NANOS) {
            return false;
        }
        warned.put(claimant, now);
        return true;
    }

    private static Address node(ActorRef<?> ref, ActorSystem<?> system) {
        Address a = ref.path().address();
        return a.hasLocalScope() ? system.address() : a;
    }

    /** Whether the node at {@code address} is a reachable member that has not begun to leave. */
    private static boolean live(Address address, ActorSystem<?> system) {
        if (address.equals(system.address())) {
            return true;
        }
        ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
        for (Member m : state.getUnreachable()) {
            if (m.address().equals(address)) {
                return false;
            }
        }
        for (Member m : state.getMembers()) {
            if (m.address().equals(address)) {
                return m.status() == MemberStatus.up() || m.status() == MemberStatus.weaklyUp() || m.status() == MemberStatus.joining();
            }
        }
        return false;
    }
}
