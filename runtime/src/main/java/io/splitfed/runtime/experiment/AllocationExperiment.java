package io.splitfed.runtime.experiment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prediction against reality: SplitFrozen on SST-2 with 8 devices whose simulated uplinks run at
 * the rates the planner allocates each round (SflLLM's delay-minimising plan, and SFLAM's
 * latency-energy plan). Each round the planner predicts the training time from the devices'
 * measured profiles; the table sets that beside the measured time.
 */
public final class AllocationExperiment implements Experiment {

    static final List<String> POLICIES = List.of("sflllm", "sflam");
    static final double TARGET_ERROR = 0.20;

    @Override
    public String name() {
        return "allocation";
    }

    @Override
    public String description() {
        return "SplitFrozen, links shaped to the planner's rates: predicted against measured round time, sflllm and sflam";
    }

    @Override
    public List<Cell> cells(boolean quick) {
        List<Cell> cells = new ArrayList<>();
        for (String policy : POLICIES) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("mode", "splitfrozen");
            o.put("planning.policy", policy);
            o.put("links.enabled", true);
            o.put("links.latency", "5ms");
            // every micro-batch computed on the device, so each round is like the next
            o.put("pipeline.activation-cache", false);
            // whole micro-batches per server step, so the server's work per round does not depend on arrival order
            o.put("server.mix-devices", 1);
            o.put("federation.epochs", 1);
            o.put("federation.rounds", quick ? 3 : 5);
            o.put("data.train-limit", quick ? 2000 : 4000);
            o.put("data.eval-limit", 500);
            cells.add(new Cell("allocation-" + policy + (quick ? "-quick" : ""), o, Map.of("policy", policy)));
        }
        return cells;
    }

    @Override
    public String report(List<CellResult> results, Path outDir, boolean quick) {
        StringBuilder sb = new StringBuilder("| policy | round | predicted s | measured s | error |\n|---|---:|---:|---:|---:|\n");
        List<Double> errors = new ArrayList<>();
        Map<String, Double> meanByPolicy = new LinkedHashMap<>();
        for (CellResult r : results) {
            List<Double> pred = r.roundPredictedSeconds();
            List<Double> meas = r.roundTrainSeconds();
            if (pred == null || meas == null) {
                continue;
            }
            double sum = 0;
            int n = 0;
            for (int i = 0; i < Math.min(pred.size(), meas.size()); i++) {
                double e = (meas.get(i) - pred.get(i)) / meas.get(i);
                sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | %+.1f%% |%n", r.label("policy"), i + 1, pred.get(i), meas.get(i), 100 * e));
                if (!Double.isNaN(e)) {
                    errors.add(Math.abs(e));
                    sum += Math.abs(e);
                    n++;
                }
            }
            meanByPolicy.put(r.label("policy"), n == 0 ? Double.NaN : sum / n);
        }
        sb.append("\nError is (measured - predicted) / measured. Measured: from the round's start until the last device's last ")
                .append("micro-batch is trained and answered. Predicted: the planner's pipelined round model at the allocated rates, ")
                .append("from the devices' profiles (at join, then their rounds) and the server's measured speed.\n\n");
        double worst = errors.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        meanByPolicy.forEach((p, e) -> sb.append(Sst2AccuracyExperiment.check(String.format(Locale.ROOT,
                "%s: mean absolute error %.1f%%, under %.0f%%", p, 100 * e, 100 * TARGET_ERROR), e <= TARGET_ERROR)));
        sb.append(String.format(Locale.ROOT, "%nThe worst single round is off by %.1f%%. Every device and the server share this machine's "
                + "tensor thread and 2 cores, so a pause anywhere (a collection, a slow step) lands on a round at random.%n", 100 * worst));
        return sb.toString();
    }
}
