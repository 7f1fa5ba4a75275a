package io.splitfed.optimizer;

import java.util.Arrays;

/**
 * SflLLM's resource allocation: the split point and LoRA rank (exhaustive over the candidates),
 * uplink subchannels and transmit power (jointly and exactly, {@link RadioAllocation}) that
 * minimise the predicted training delay, rounds to converge times the slowest device's round.
 * Devices may then move to split points of their own, one at a time, while that shortens the
 * round, as SplitFrozen gives heterogeneous devices different cuts.
 */
public final class SflLlmOptimizer {

    private SflLlmOptimizer() {}

    /** The delay-minimising allocation at full precision ({@code bits} 32, or the widest candidate). */
    public static Allocation optimize(Scenario s) {
        int bits = Arrays.stream(s.bits()).max().orElse(32);
        Allocation best = null;
        for (int k : s.splitPoints()) {
            for (int r : s.ranks()) {
                int[] splits = new int[s.size()];
                Arrays.fill(splits, k);
                Allocation a = solve(s, splits, r, bits);
                if (best == null || a.totalSeconds() < best.totalSeconds()) {
                    best = a;
                }
            }
        }
        return perDeviceSplits(s, best);
    }

    /** Subchannels and power for fixed split points, rank and bits. */
    public static Allocation solve(Scenario s, int[] splits, int rank, int bits) {
        RoundCost[] costs = costs(s, splits, rank, bits);
        RadioAllocation.Result radio = RadioAllocation.minRoundTime(s.channel(), s.devices(), costs, s.channel().totalPower());
        return allocation(s, costs, radio, splits, rank, bits);
    }

    /** Each device's round time under allocation {@code a} (its split points, rank, bits and radio). */
    public static double[] deviceSeconds(Scenario s, Allocation a) {
        double[] out = new double[s.size()];
        for (int i = 0; i < out.length; i++) {
            RoundCost c = RoundCost.of(s, i, a.splitPoints()[i], a.rank(), a.bits());
            out[i] = c.seconds(s.channel(), s.devices().get(i), a.subchannels()[i], a.power()[i]);
        }
        return out;
    }

    static RoundCost[] costs(Scenario s, int[] splits, int rank, int bits) {
        RoundCost[] costs = new RoundCost[s.size()];
        for (int i = 0; i < costs.length; i++) {
            costs[i] = RoundCost.of(s, i, splits[i], rank, bits);
        }
        return costs;
    }

    static Allocation allocation(Scenario s, RoundCost[] costs, RadioAllocation.Result radio, int[] splits, int rank, int bits) {
        double energy = 0;
        double round = 0;
        for (int i = 0; i < costs.length; i++) {
            double rate = s.channel().rate(radio.subchannels()[i], radio.power()[i], s.devices().get(i).gain());
            round = Math.max(round, costs[i].secondsAtRate(rate));
            energy += costs[i].computeJoules() + radio.power()[i] * costs[i].uplinkBits() / rate;
        }
        return new Allocation(radio.subchannels(), radio.power(), splits, rank, bits, round, s.convergence().rounds(rank, bits), energy);
    }

    /**
     * Coordinate descent over per-device split points: at the current round time, each device
     * takes the split point that needs the least power on its subchannels; the radio is then
     * solved again, and the move is kept only if the round got shorter.
     */
    static Allocation perDeviceSplits(Scenario s, Allocation start) {
        Allocation best = start;
        for (int pass = 0; pass < 5; pass++) {
            int[] splits = best.splitPoints().clone();
            boolean moved = false;
            for (int i = 0; i < s.size(); i++) {
                double bestPower = RoundCost.of(s, i, splits[i], best.rank(), best.bits())
                        .powerFor(s.channel(), s.devices().get(i), best.subchannels()[i], best.roundSeconds());
                for (int k : s.splitPoints()) {
                    double p = RoundCost.of(s, i, k, best.rank(), best.bits()).powerFor(s.channel(), s.devices().get(i), best.subchannels()[i], best.roundSeconds());
                    if (p < bestPower * (1 - 1e-9)) {
                        bestPower = p;
                        splits[i] = k;
                        moved = true;
                    }
                }
            }
            if (!moved) {
                break;
            }
            Allocation next = solve(s, splits, best.rank(), best.bits());
            if (next.roundSeconds() >= best.roundSeconds() * (1 - 1e-9)) {
                break;
            }
            best = next;
        }
        return best;
    }
}
