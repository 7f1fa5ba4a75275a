package io.splitfed.actors.link;

import java.time.Duration;

/**
 * One direction of a simulated device link: messages leave in order, each occupying the link for
 * {@code bytes / rate}, and arrive {@code latency} after they finish. Returns how long after now a
 * message sent now is delivered, so the sender can schedule delivery instead of blocking.
 */
public final class LinkShaper {

    private final double bytesPerSecond;
    private final long latencyNanos;
    private long busyUntilNanos;

    public LinkShaper(double megabitsPerSecond, Duration latency) {
        if (!(megabitsPerSecond > 0)) {
            throw new IllegalArgumentException("link rate must be positive, got " + megabitsPerSecond + " Mbit/s");
        }
        this.bytesPerSecond = megabitsPerSecond * 1e6 / 8;
        this.latencyNanos = latency.toNanos();
    }

    /** Delivery delay for {@code bytes} sent at {@code nowNanos}. */
    public synchronized Duration send(long bytes, long nowNanos) {
        long start = Math.max(nowNanos, busyUntilNanos);
        long transfer = (long) (bytes / bytesPerSecond * 1e9);
        busyUntilNanos = start + transfer;
        return Duration.ofNanos(busyUntilNanos + latencyNanos - nowNanos);
    }

    public double megabitsPerSecond() {
        return bytesPerSecond * 8 / 1e6;
    }
}
