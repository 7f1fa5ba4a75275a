package io.splitfed.actors.device;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Outbox;

import java.time.Duration;

/**
 * A split device's uplink as the simulation shapes it: its rate and latency ({@code links}), and what a
 * fault imposes on it (a cut link loses what is sent; a slowed device's link is slowed as much as
 * its compute). Micro-batches leave in the order they were sent; without simulated links each
 * goes at once.
 */
final class DeviceUplink {

    private final DeviceState state;
    private final Outbox outbox;
    private final Runnable arm;

    /** {@code arm} sets the device's timer for the head of {@code state.onUplink}. */
    DeviceUplink(DeviceState state, Outbox outbox, Runnable arm) {
        this.state = state;
        this.outbox = outbox;
        this.arm = arm;
    }

    /** Puts {@code f} on the uplink to the device's shard; returns when it reaches the shard's end (now, if the link lost it). */
    long deliver(ServerShard.Forward f) {
        long now = System.nanoTime();
        if (state.conditions.cutAt(now)) {
            return now; // the link is down: lost, and sent again after the resend timeout
        }
        long bytes = (long) (f.activations().wireBytes() * state.conditions.slowdown());
        Duration delay = state.uplink == null ? Duration.ZERO : state.uplink.send(bytes, now);
        delay = delay.plusNanos(state.conditions.extraLatencyNanos());
        if (delay.isZero() && state.onUplink.isEmpty()) {
            outbox.send(state.shard, f);
        } else if (state.onUplink.add(now + delay.toNanos(), new DeviceState.Outbound(state.shard, f))) {
            arm.run(); // in order: a later micro-batch never arrives first
        }
        return now + delay.toNanos();
    }

    /** Hands on what has crossed the link by now. */
    void due() {
        state.onUplink.takeDue(System.nanoTime(), o -> outbox.send(o.to(), o.forward()));
    }
}
