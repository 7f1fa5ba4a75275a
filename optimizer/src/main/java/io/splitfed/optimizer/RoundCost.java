package io.splitfed.optimizer;

/**
 * One device's round under a split point, rank and bit-width, apart from its uplink rate: the
 * time that does not depend on the radio ({@code fixedSeconds}: compute on both sides, the
 * downlink) and the bits it must send up ({@code uplinkBits}: cut activations, and in SFL its
 * adapter).
 */
record RoundCost(double fixedSeconds, double uplinkBits, double computeJoules) {

    static RoundCost of(Scenario s, int device, int k, int rank, int bits) {
        Device d = s.devices().get(device);
        ModelCost m = s.model();
        double n = d.samples();
        double deviceFlops = n * m.deviceFlops(k, rank, s.deviceTrains());
        double compute = deviceFlops / d.flopsPerSecond();
        double server = n * m.serverFlops(k, rank) / (s.serverFlopsPerSecond() / s.size());
        double cutBits = n * m.cutBytes(bits) * 8;
        double adapterBits = s.deviceTrains() ? m.adapterBytes(k, rank) * 8 : 0;
        double down = ((s.deviceTrains() ? cutBits : 0) + adapterBits) / s.channel().downlinkBitsPerSecond();
        return new RoundCost(compute + server + down, cutBits + adapterBits, deviceFlops * d.joulesPerFlop());
    }

    /** The power {@code n} subchannels need to finish the round within {@code tau}; infinite when they cannot. */
    double powerFor(Channel c, Device d, int n, double tau) {
        if (tau <= fixedSeconds || n == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double p = c.powerFor(n, uplinkBits / (tau - fixedSeconds), d.gain());
        return p > d.maxPower() ? Double.POSITIVE_INFINITY : p;
    }

    double seconds(Channel c, Device d, int n, double p) {
        double rate = c.rate(n, p, d.gain());
        return rate == 0 ? Double.POSITIVE_INFINITY : fixedSeconds + uplinkBits / rate;
    }
}
