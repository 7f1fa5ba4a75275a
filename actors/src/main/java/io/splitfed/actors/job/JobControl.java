package io.splitfed.actors.job;

import io.splitfed.actors.chaos.Malformed;
import io.splitfed.actors.wire.WireMessage;

/** Commands a running job's guardian takes: fault injection for tests and the churn tool. */
public sealed interface JobControl extends WireMessage {

    /** Stop a device actor, as if the device left. */
    record StopDevice(int device) implements JobControl {}

    /** Bring a stopped device back with the state it had; it rejoins from the next round. */
    record RestartDevice(int device) implements JobControl {}

    /** Make a device {@code factor} times slower (1 restores it). */
    record SlowDevice(int device, double factor) implements JobControl {}

    /** Throw inside a device's handler; supervision restarts it with its state. */
    record CrashDevice(int device) implements JobControl {}

    /** Throw inside a server shard's handler; supervision restarts it with its state. */
    record CrashShard(int shard) implements JobControl {}

    /** Add latency to a device's uplink, and cut it for {@code cutMillis} (0: not cut). */
    record LinkFault(int device, long extraLatencyMillis, long cutMillis) implements JobControl {}

    /** Make a device Byzantine: its round results become its adapter times {@code scale} (1 restores it). */
    record PoisonDevice(int device, double scale) implements JobControl {}

    /** Send bad input of {@code kind} as if from {@code device} during {@code round} (see {@link Malformed}). */
    record SendMalformed(Malformed kind, int device, int round, long seed) implements JobControl {}

    /**
     * Stop a server shard as if its node died, and start it again from the shard's checkpoint in
     * the store after {@code downMillis}. Its devices resend what went unanswered.
     */
    record KillShard(int shard, long downMillis) implements JobControl {}

    /** Start a killed shard again (sent by the guardian to itself after a {@link KillShard}'s delay). */
    record RestartShard(int shard) implements JobControl {}
}
