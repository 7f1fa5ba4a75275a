package io.splitfed.actors.fleet;

/**
 * One emulated device: how fast it computes, its link, and what its work costs in energy (the
 * SFLAM model the optimizer uses: joules per FLOP of compute, plus transmit power while sending).
 *
 * @param tier the hardware tier or trace entry it was drawn from, for reports
 * @param forwardGflops effective speed of inference (frozen blocks), GFLOP/s
 * @param trainGflops effective speed of training steps (forward and backward), GFLOP/s
 * @param joulesPerGflop compute energy
 * @param radioWatts transmit power while the uplink carries data
 * @param availability the chance that the device is there for a round (1: always)
 */
public record FleetDevice(String tier, double forwardGflops, double trainGflops, LinkProfile link, double joulesPerGflop, double radioWatts,
        double availability) {

    /** A device that is always there. */
    public FleetDevice(String tier, double forwardGflops, double trainGflops, LinkProfile link, double joulesPerGflop, double radioWatts) {
        this(tier, forwardGflops, trainGflops, link, joulesPerGflop, radioWatts, 1.0);
    }

    /** Seconds for {@code forwardFlops} of inference and {@code trainFlops} of training. */
    public double computeSeconds(double forwardFlops, double trainFlops) {
        return forwardFlops / (forwardGflops * 1e9) + trainFlops / (trainGflops * 1e9);
    }

    /**
     * The same device with its uplink at {@code mbps}, sent at {@code watts} (0: its own power), as
     * a planner allocates the cell's subchannels and power.
     */
    public FleetDevice withUplink(double mbps, double watts) {
        return new FleetDevice(tier, forwardGflops, trainGflops, new LinkProfile(mbps, link.downlinkMbps(), link.latencyMs()), joulesPerGflop,
                watts > 0 ? watts : radioWatts, availability);
    }

    /** Joules for {@code flops} of compute and {@code transmitSeconds} on the uplink. */
    public double joules(double flops, double transmitSeconds) {
        return flops / 1e9 * joulesPerGflop + transmitSeconds * radioWatts;
    }
}
