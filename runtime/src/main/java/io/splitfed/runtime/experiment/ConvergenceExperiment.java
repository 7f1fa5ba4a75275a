package io.splitfed.runtime.experiment;

import io.splitfed.optimizer.ConvergenceModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rounds to converge against the LoRA rank, measured, and the optimiser's convergence model
 * {@code rounds(r) = a + c / r^e} fitted to them. SplitFrozen on SST-2, one cell per rank, many
 * short rounds; a cell's rounds to converge are when its evaluation accuracy first reaches 90% of
 * the best final accuracy in the grid (interpolated between rounds).
 */
public final class ConvergenceExperiment implements Experiment {

    static final double TARGET_SHARE = 0.9;

    @Override
    public String name() {
        return "convergence";
    }

    @Override
    public String description() {
        return "SST-2, SplitFrozen: rounds to converge at LoRA ranks 1 to 16, and the optimiser's convergence model fitted to them";
    }

    static int[] ranks(boolean quick) {
        return quick ? new int[] {2, 8} : new int[] {1, 2, 4, 8, 16};
    }

    @Override
    public List<Cell> cells(boolean quick) {
        List<Cell> cells = new ArrayList<>();
        for (int rank : ranks(quick)) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("mode", "splitfrozen");
            o.put("training.lora.rank", rank);
            o.put("training.lora.alpha", 2 * rank);
            o.put("federation.rounds", quick ? 6 : 12);
            o.put("federation.epochs", 3);
            o.put("data.train-limit", quick ? 4000 : 8000);
            o.put("data.eval-limit", 1000);
            cells.add(new Cell("convergence-rank" + rank + (quick ? "-quick" : ""), o, Map.of("rank", Integer.toString(rank))));
        }
        return cells;
    }

    /** Fractional rounds until {@code acc} first reaches {@code target}, linear between rounds; NaN if never. */
    static double roundsTo(List<Double> acc, double target) {
        double prev = 0.5; // chance on a balanced binary task, before round 1
        for (int i = 0; i < acc.size(); i++) {
            double a = acc.get(i);
            if (a >= target) {
                double frac = a == prev ? 1 : Math.max(0, Math.min(1, (target - prev) / (a - prev)));
                return i + frac;
            }
            prev = a;
        }
        return Double.NaN;
    }

    @Override
    public String report(List<CellResult> results, Path outDir, boolean quick) {
        double best = results.stream().mapToDouble(CellResult::accuracy).max().orElse(Double.NaN);
        double target = TARGET_SHARE * best;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "Target: %.1f%% accuracy (90%% of the best final accuracy, %.1f%%).%n%n", 100 * target, 100 * best));
        sb.append("| rank | accuracy per round | final | rounds to target |\n|---:|---|---:|---:|\n");
        List<Integer> ranks = new ArrayList<>();
        List<Double> rounds = new ArrayList<>();
        for (CellResult r : results) {
            double n = roundsTo(r.roundAccuracy(), target);
            StringBuilder curve = new StringBuilder();
            for (double a : r.roundAccuracy()) {
                curve.append(curve.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.1f", 100 * a));
            }
            sb.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %s |%n", r.label("rank"), curve, 100 * r.accuracy(),
                    Double.isNaN(n) ? "not reached" : String.format(Locale.ROOT, "%.2f", n)));
            if (!Double.isNaN(n)) {
                ranks.add(Integer.parseInt(r.label("rank")));
                rounds.add(n);
            }
        }
        if (ranks.size() >= 2) {
            int[] rk = ranks.stream().mapToInt(Integer::intValue).toArray();
            double[] rd = rounds.stream().mapToDouble(Double::doubleValue).toArray();
            ConvergenceModel fit = ConvergenceModel.defaults().fitWithExponent(rk, rd);
            sb.append(String.format(Locale.ROOT, "%nFitted: rounds(r) = %.3f + %.3f / r^%.2f (squared error %.4f over %d ranks)%n%n",
                    fit.a(), fit.c(), fit.e(), fit.squaredError(rk, rd), rk.length));
            sb.append("| rank | measured | fitted |\n|---:|---:|---:|\n");
            for (int i = 0; i < rk.length; i++) {
                sb.append(String.format(Locale.ROOT, "| %d | %.2f | %.2f |%n", rk[i], rd[i], fit.rounds(rk[i], 32)));
            }
        } else {
            sb.append("\nToo few ranks reached the target to fit the model.\n");
        }
        return sb.toString();
    }
}
