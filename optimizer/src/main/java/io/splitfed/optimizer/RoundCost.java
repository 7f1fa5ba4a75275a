package io.splitfed.optimizer;

/**
 * One device's round under a split point, rank and bit-width, as a function of its uplink rate
 * {@code R}: {@code max(fixedSeconds + uplinkBits / R, fillSeconds + microBatchBits / R)}.
 *
 * <p>In the papers' sequential round (scenario micro-batch 0) the device computes, sends, waits
 * for the server and the downlink, one after the other, so both terms are the same:
 * {@code compute + server + downlink + bits / R}. When the runtime pipelines {@code S}
 * micro-batches, the round takes one pass through every stage plus {@code S - 1} passes through the
 * slowest: with the uplink slowest that is {@code fixedSeconds} (one micro-batch of every other
 * stage) plus all the bits, otherwise {@code fillSeconds} (which adds {@code S - 1} of the slowest
 * other stage) plus one micro-batch's bits. SFL's adapter upload at the round's end adds to both.
 */
record RoundCost(double fixedSeconds, double fillSeconds, double uplinkBits, double microBatchBits, double computeJoules) {

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
        double joules = deviceFlops * d.joulesPerFlop();
        int mb = s.microBatch();
        if (mb <= 0 || mb >= n) {
            double fixed = compute + server + down;
            return new RoundCost(fixed, fixed, cutBits + adapterBits, cutBits + adapterBits, joules);
        }
        double steps = Math.ceil(n / mb);
        double adapterDown = s.deviceTrains() ? adapterBits / s.channel().downlinkBitsPerSecond() : 0;
        double c = compute / steps;
        double sv = server / steps;
        double dn = (down - adapterDown) / steps;
        double once = c + sv + dn + adapterDown;
        double slowest = Math.max(c, Math.max(sv, dn));
        return new RoundCost(once, once + (steps - 1) * slowest, cutBits + adapterBits, cutBits / steps + adapterBits, joules);
    }

    /** The shortest this round can be, at any rate. */
    double minSeconds() {
        return Math.max(fixedSeconds, fillSeconds);
    }

    /** The uplink rate, bits/s, that ends the round at {@code tau}; infinite when none can. */
    double rateFor(double tau) {
        if (tau <= minSeconds()) {
            return Double.POSITIVE_INFINITY;
        }
        return Math.max(uplinkBits / (tau - fixedSeconds), microBatchBits / (tau - fillSeconds));
    }

    /** How long the device transmits when its round ends at {@code tau}. */
    double transmitSeconds(double tau) {
        double rate = rateFor(tau);
        return Double.isInfinite(rate) ? 0 : uplinkBits / rate;
    }

    /** The power {@code n} subchannels need to finish the round within {@code tau}; infinite when they cannot. */
    double powerFor(Channel c, Device d, int n, double tau) {
        double rate = rateFor(tau);
        if (Double.isInfinite(rate) || n == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double p = c.powerFor(n, rate, d.gain());
        return p > d.maxPower() ? Double.POSITIVE_INFINITY : p;
    }

    double seconds(Channel c, Device d, int n, double p) {
        return secondsAtRate(c.rate(n, p, d.gain()));
    }

    double secondsAtRate(double rate) {
        return rate == 0 ? Double.POSITIVE_INFINITY : Math.max(fixedSeconds + uplinkBits / rate, fillSeconds + microBatchBits / rate);
    }
}
