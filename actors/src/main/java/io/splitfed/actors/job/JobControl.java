package io.splitfed.actors.job;

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
}
