package io.splitfed.optimizer;

import java.util.List;
import java.util.PriorityQueue;

/**
 * Subchannels and transmit power, jointly and exactly. For a target round time {@code tau}, each
 * device needs a power that is convex and decreasing in its number of subchannels, so handing
 * subchannels out one at a time to the device whose (weighted) power drops most is optimal
 * (greedy marginal allocation of a separable convex cost). Bisection on {@code tau} then finds the
 * shortest round whose powers fit the budget.
 */
final class RadioAllocation {

    private RadioAllocation() {}

    record Result(int[] subchannels, double[] power, double tau) {}

    /**
     * The subchannels and powers that minimise the weighted sum of powers with every device done
     * within {@code tau}, each under its own power limit; null when no split of the subchannels can.
     */
    static Result atTau(Channel c, List<Device> devices, RoundCost[] costs, double tau, double[] weights) {
        int n = devices.size();
        int[] sub = new int[n];
        double[] p = new double[n];
        int used = 0;
        for (int i = 0; i < n; i++) {
            if (tau <= costs[i].minSeconds()) {
                return null;
            }
            int k = 1;
            double need = costs[i].powerFor(c, devices.get(i), k, tau);
            while (Double.isInfinite(need)) {
                if (++k > c.subchannels() - used - (n - 1 - i)) {
                    return null;
                }
                need = costs[i].powerFor(c, devices.get(i), k, tau);
            }
            sub[i] = k;
            p[i] = need;
            used += k;
        }
        PriorityQueue<double[]> gains = new PriorityQueue<>((a, b) -> Double.compare(b[0], a[0]));
        for (int i = 0; i < n; i++) {
            gains.add(new double[] {weights[i] * (p[i] - costs[i].powerFor(c, devices.get(i), sub[i] + 1, tau)), i});
        }
        for (; used < c.subchannels(); used++) {
            int i = (int) gains.poll()[1];
            sub[i]++;
            p[i] = costs[i].powerFor(c, devices.get(i), sub[i], tau);
            gains.add(new double[] {weights[i] * (p[i] - costs[i].powerFor(c, devices.get(i), sub[i] + 1, tau)), i});
        }
        return new Result(sub, p, tau);
    }

    /** The shortest round whose powers sum to at most {@code budget}: SflLLM's radio subproblem. */
    static Result minRoundTime(Channel c, List<Device> devices, RoundCost[] costs, double budget) {
        int n = devices.size();
        if (c.subchannels() < n) {
            throw new IllegalArgumentException("the channel has " + c.subchannels() + " subchannels for " + n + " devices: each needs one at least");
        }
        double[] ones = new double[n];
        java.util.Arrays.fill(ones, 1);
        double lo = 0;
        for (RoundCost rc : costs) {
            lo = Math.max(lo, rc.minSeconds());
        }
        double hi = Math.max(lo * 2, 1e-3);
        Result feasible = fits(atTau(c, devices, costs, hi, ones), budget);
        for (int i = 0; feasible == null; i++) {
            if (i > 200) {
                throw new IllegalArgumentException("no round time satisfies the power limits; the scenario cannot be served");
            }
            hi *= 2;
            feasible = fits(atTau(c, devices, costs, hi, ones), budget);
        }
        for (int i = 0; i < 100 && hi - lo > 1e-9 * hi; i++) {
            double mid = 0.5 * (lo + hi);
            Result r = fits(atTau(c, devices, costs, mid, ones), budget);
            if (r != null) {
                hi = mid;
                feasible = r;
            } else {
                lo = mid;
            }
        }
        return feasible;
    }

    private static Result fits(Result r, double budget) {
        if (r == null) {
            return null;
        }
        double sum = 0;
        for (double x : r.power()) {
            sum += x;
        }
        return sum <= budget ? r : null;
    }
}
