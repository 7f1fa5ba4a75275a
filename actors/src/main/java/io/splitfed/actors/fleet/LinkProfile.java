package io.splitfed.actors.fleet;

import io.splitfed.actors.link.LinkShaper;

import java.time.Duration;

/**
 * A device's wireless link: rates in megabits per second each way and a one-way latency. A rate of
 * zero or less means no link to model (the {@code host} fleet: everything in one JVM).
 */
public record LinkProfile(double uplinkMbps, double downlinkMbps, double latencyMs) {

    /** No link: messages take no time (devices and server in one process). */
    public static final LinkProfile NONE = new LinkProfile(0, 0, 0);

    /** Seconds to put {@code bytes} on the uplink, without the latency. */
    public double upSeconds(double bytes) {
        return uplinkMbps <= 0 ? 0 : bytes * 8 / (uplinkMbps * 1e6);
    }

    /** Seconds to receive {@code bytes} on the downlink, without the latency. */
    public double downSeconds(double bytes) {
        return downlinkMbps <= 0 ? 0 : bytes * 8 / (downlinkMbps * 1e6);
    }

    public double latencySeconds() {
        return latencyMs / 1000;
    }

    /** A shaper for the uplink, as the job's simulated links take it; null where there is no link. */
    public LinkShaper uplinkShaper() {
        return uplinkMbps <= 0 ? null : new LinkShaper(uplinkMbps, latency());
    }

    /** A shaper for the downlink; null where there is no link. */
    public LinkShaper downlinkShaper() {
        return downlinkMbps <= 0 ? null : new LinkShaper(downlinkMbps, latency());
    }

    private Duration latency() {
        return Duration.ofNanos((long) (latencyMs * 1e6));
    }
}
