package io.splitfed.optimizer;

/**
 * A plan for one round, and what it is predicted to cost.
 *
 * @param subchannels uplink subchannels per device
 * @param power transmit power per device, W
 * @param splitPoints split point per device
 * @param roundSeconds the slowest device's round time
 * @param rounds rounds to converge at this rank and bit-width
 * @param energyJoules the devices' energy per round (compute and transmit)
 */
public record Allocation(int[] subchannels, double[] power, int[] splitPoints, int rank, int bits, double roundSeconds, double rounds,
        double energyJoules) {

    /** Predicted training delay: rounds times the round time. */
    public double totalSeconds() {
        return rounds * roundSeconds;
    }

    public double totalEnergy() {
        return rounds * energyJoules;
    }
}
