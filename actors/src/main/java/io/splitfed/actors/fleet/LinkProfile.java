package io.splitfed.actors.fleet;

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
}
