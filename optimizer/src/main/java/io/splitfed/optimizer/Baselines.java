package io.splitfed.optimizer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** What the optimiser is judged against, each predicted with the same system model. */
public final class Baselines {

    private Baselines() {}

    /** The optimiser and every baseline, by name, for one scenario. */
    public static Map<String, Allocation> compare(Scenario s, long seed) {
        Allocation opt = SflLlmOptimizer.optimize(s);
        Map<String, Allocation> out = new LinkedHashMap<>();
        out.put("optimised (SflLLM)", opt);
        out.put("equal bandwidth and power", equalBandwidth(s, opt.splitPoints(), opt.rank(), opt.bits()));
        out.put("fixed split point", fixedSplit(s));
        int[] ranks = s.ranks().clone();
        Arrays.sort(ranks);
        out.put("fixed rank " + ranks[0], fixedRank(s, ranks[0]));
        out.put("fixed rank " + ranks[ranks.length - 1], fixedRank(s, ranks[ranks.length - 1]));
        out.put("random allocation", random(s, new Random(seed)));
        return out;
    }

    /** Every device gets the same number of subchannels and the same share of the power budget. */
    public static Allocation equalBandwidth(Scenario s, int[] splits, int rank, int bits) {
        int n = s.size();
        int[] sub = new int[n];
        double[] p = new double[n];
        for (int i = 0; i < n; i++) {
            sub[i] = s.channel().subchannels() / n + (i < s.channel().subchannels() % n ? 1 : 0);
            p[i] = Math.min(s.devices().get(i).maxPower(), s.channel().totalPower() / n);
        }
        return evaluate(s, splits, rank, bits, sub, p);
    }

    /** The middle candidate split point for all devices; radio and rank optimised. */
    public static Allocation fixedSplit(Scenario s) {
        int k = s.splitPoints()[s.splitPoints().length / 2];
        Allocation best = null;
        for (int r : s.ranks()) {
            int[] splits = new int[s.size()];
            Arrays.fill(splits, k);
            Allocation a = SflLlmOptimizer.solve(s, splits, r, widest(s));
            best = best == null || a.totalSeconds() < best.totalSeconds() ? a : best;
        }
        return best;
    }

    /** One rank for every job (the smallest or largest candidate); radio and split point optimised. */
    public static Allocation fixedRank(Scenario s, int r) {
        Allocation best = null;
        for (int k : s.splitPoints()) {
            int[] splits = new int[s.size()];
            Arrays.fill(splits, k);
            Allocation a = SflLlmOptimizer.solve(s, splits, r, widest(s));
            best = best == null || a.totalSeconds() < best.totalSeconds() ? a : best;
        }
        return best;
    }

    /** Subchannels dealt at random (one each first), power split at random within the budget, random split and rank. */
    public static Allocation random(Scenario s, Random rnd) {
        int n = s.size();
        int[] sub = new int[n];
        Arrays.fill(sub, 1);
        for (int j = n; j < s.channel().subchannels(); j++) {
            sub[rnd.nextInt(n)]++;
        }
        double[] w = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            w[i] = -Math.log(1 - rnd.nextDouble());
            sum += w[i];
        }
        double[] p = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = Math.min(s.devices().get(i).maxPower(), s.channel().totalPower() * w[i] / sum);
        }
        int[] splits = new int[n];
        Arrays.fill(splits, s.splitPoints()[rnd.nextInt(s.splitPoints().length)]);
        return evaluate(s, splits, s.ranks()[rnd.nextInt(s.ranks().length)], widest(s), sub, p);
    }

    /** The predicted cost of a given plan. */
    public static Allocation evaluate(Scenario s, int[] splits, int rank, int bits, int[] sub, double[] p) {
        RoundCost[] costs = SflLlmOptimizer.costs(s, splits, rank, bits);
        return SflLlmOptimizer.allocation(s, costs, new RadioAllocation.Result(sub, p, Double.NaN), splits, rank, bits);
    }

    private static int widest(Scenario s) {
        return Arrays.stream(s.bits()).max().orElse(32);
    }
}
