package io.splitfed.actors.chaos;

/**
 * Faults injected into a running actor, from outside its protocol: {@link Faults} wraps the actor's
 * behavior so that these reach it (in-process jobs, tests and {@code splitfed churn}). A production
 * actor's own protocol has none of them.
 */
public sealed interface Fault {

    /** Make a device {@code factor} times slower (1 restores it). */
    record SlowDown(double factor) implements Fault {}

    /** Add {@code extraLatencyMillis} to every uplink message of a device, and drop all for the next {@code cutMillis}. */
    record LinkFault(long extraLatencyMillis, long cutMillis) implements Fault {}

    /** A Byzantine device: its round results become its adapter times {@code scale} (1 is honest). */
    record Poison(double scale) implements Fault {}

    /** Throw inside the actor, as a bug would; its supervisor restarts it. */
    record Crash(String reason) implements Fault {}
}
