package io.splitfed.actors.link;

/**
 * What a simulation imposes on one device beyond its configured link: slower hardware, extra
 * latency or a cut on its uplink, and a Byzantine scale on its round results. Fault injection (see
 * {@code io.splitfed.actors.chaos}) sets these on the device's thread; the device reads its
 * slowdown, and {@link SimulatedLinks} the rest, from any thread.
 */
public final class DeviceConditions {

    private volatile double slowdown = 1.0;
    private volatile long extraLatencyNanos;
    private volatile long cutUntilNanos;
    private volatile double poison = 1.0;

    /** The device computes {@code factor} times slower than it does (at least 1; 1 restores it). */
    public void slowDown(double factor) {
        slowdown = Math.max(1.0, factor);
    }

    /** Adds {@code extraLatencyMillis} to every uplink message, and drops all for {@code cutMillis} from {@code nowNanos}. */
    public void linkFault(long extraLatencyMillis, long cutMillis, long nowNanos) {
        extraLatencyNanos = Math.max(0, extraLatencyMillis) * 1_000_000L;
        cutUntilNanos = cutMillis > 0 ? nowNanos + cutMillis * 1_000_000L : 0;
    }

    /** The device's round results become its adapter times {@code scale} (1 is honest). */
    public void poison(double scale) {
        poison = scale;
    }

    public double slowdown() {
        return slowdown;
    }

    public long extraLatencyNanos() {
        return extraLatencyNanos;
    }

    /** Whether the uplink drops what is sent at {@code nowNanos}. */
    public boolean cutAt(long nowNanos) {
        return nowNanos < cutUntilNanos;
    }

    public double poison() {
        return poison;
    }
}
