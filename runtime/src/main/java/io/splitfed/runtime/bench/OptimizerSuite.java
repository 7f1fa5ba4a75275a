package io.splitfed.runtime.bench;

import io.splitfed.optimizer.Allocation;
import io.splitfed.optimizer.Baselines;
import io.splitfed.optimizer.Scenario;
import io.splitfed.optimizer.Scenarios;
import io.splitfed.optimizer.SflLlmOptimizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The resource optimiser: its predicted training delay against equal bandwidth, a fixed split,
 * a fixed rank and a random plan at 10, 50 and 200 devices, and how long it takes for 1,000.
 */
public final class OptimizerSuite implements BenchSuite {

    @Override
    public String name() {
        return "optimizer";
    }

    @Override
    public String description() {
        return "SflLLM allocation: predicted delay vs baselines at 10, 50, 200 devices; solve time at 1,000 devices";
    }

    @Override
    public List<Comparison> run(boolean quick) throws Exception {
        List<Comparison> out = new ArrayList<>();
        for (int n : new int[] {10, 50, 200}) {
            Scenario s = Scenarios.random(n, 1000 + n, true);
            Map<String, Allocation> all = Baselines.compare(s, n);
            double opt = all.get("optimised (SflLLM)").totalSeconds();
            for (Map.Entry<String, Allocation> e : all.entrySet()) {
                if (!e.getKey().startsWith("optimised")) {
                    out.add(new Comparison(name(), n + " devices: optimised predicted delay", opt, "s", e.getKey(), e.getValue().totalSeconds(), "s", false));
                }
            }
        }
        Scenario big = Scenarios.random(1000, 7, true);
        SflLlmOptimizer.optimize(Scenarios.random(200, 8, true)); // warm-up
        int reps = quick ? 1 : 3;
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            SflLlmOptimizer.optimize(big);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        out.add(new Comparison(name(), "optimise 1,000 devices, 2,000 subchannels, 6 splits x 4 ranks", best, "s", "the 2 s target", 2.0, "s", false));
        return out;
    }
}
