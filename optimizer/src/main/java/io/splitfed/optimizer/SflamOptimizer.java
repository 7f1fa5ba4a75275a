package io.splitfed.optimizer;

import java.util.Arrays;

/**
 * SFLAM's allocation: the bit-width on the wire, transmit power and bandwidth that minimise a
 * weighted sum of training delay and device energy,
 * {@code w T / T0 + (1 - w) E / E0}, where T0 and E0 are the delay and energy of the
 * full-precision, minimum-delay plan (so that w trades like against like). For each bit-width and
 * round time, the energy-minimising subchannels and powers are found exactly ({@link
 * RadioAllocation} with each device's power weighted by its transmit time); the round time is
 * then chosen by golden-section search, as delay rises and energy falls with it.
 */
public final class SflamOptimizer {

    private SflamOptimizer() {}

    public static Allocation optimize(Scenario s, int splitPoint, int rank, double delayWeight) {
        if (delayWeight < 0 || delayWeight > 1) {
            throw new IllegalArgumentException("delay weight " + delayWeight + ": expected 0 to 1");
        }
        int[] splits = new int[s.size()];
        Arrays.fill(splits, splitPoint);
        int widest = Arrays.stream(s.bits()).max().orElse(32);
        Allocation reference = SflLlmOptimizer.solve(s, splits, rank, widest);
        double t0 = reference.totalSeconds();
        double e0 = reference.totalEnergy();
        Allocation best = null;
        double bestScore = Double.POSITIVE_INFINITY;
        for (int bits : s.bits()) {
            RoundCost[] costs = SflLlmOptimizer.costs(s, splits, rank, bits);
            double tauMin = RadioAllocation.minRoundTime(s.channel(), s.devices(), costs, Double.POSITIVE_INFINITY).tau();
            double lo = tauMin;
            double hi = tauMin * 20;
            double phi = (Math.sqrt(5) - 1) / 2;
            double a = hi - phi * (hi - lo);
            double b = lo + phi * (hi - lo);
            Allocation fa = at(s, costs, splits, rank, bits, a);
            Allocation fb = at(s, costs, splits, rank, bits, b);
            for (int i = 0; i < 80; i++) {
                if (score(fa, delayWeight, t0, e0) <= score(fb, delayWeight, t0, e0)) {
                    hi = b;
                    b = a;
                    fb = fa;
                    a = hi - phi * (hi - lo);
                    fa = at(s, costs, splits, rank, bits, a);
                } else {
                    lo = a;
                    a = b;
                    fa = fb;
                    b = lo + phi * (hi - lo);
                    fb = at(s, costs, splits, rank, bits, b);
                }
            }
            Allocation local = at(s, costs, splits, rank, bits, tauMin * (1 + 1e-9));
            for (Allocation cand : new Allocation[] {fa, fb, local}) {
                double sc = score(cand, delayWeight, t0, e0);
                if (sc < bestScore) {
                    bestScore = sc;
                    best = cand;
                }
            }
        }
        return best;
    }

    public static double score(Allocation a, double w, double t0, double e0) {
        return a == null ? Double.POSITIVE_INFINITY : w * a.totalSeconds() / t0 + (1 - w) * a.totalEnergy() / e0;
    }

    private static Allocation at(Scenario s, RoundCost[] costs, int[] splits, int rank, int bits, double tau) {
        double[] weights = new double[costs.length];
        for (int i = 0; i < costs.length; i++) {
            weights[i] = costs[i].transmitSeconds(tau);
        }
        RadioAllocation.Result r = RadioAllocation.atTau(s.channel(), s.devices(), costs, tau, weights);
        return r == null ? null : SflLlmOptimizer.allocation(s, costs, r, splits, rank, bits);
    }
}
