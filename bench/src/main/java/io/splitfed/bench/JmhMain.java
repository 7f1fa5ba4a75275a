package io.splitfed.bench;

import io.splitfed.runtime.bench.ModelThroughput;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** Runs the JMH benchmarks, then prints each figure as GFLOP/s beside the bare matmul of the same run. */
public final class JmhMain {

    private JmhMain() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        OptionsBuilder opts = new OptionsBuilder();
        opts.parent(cli);
        if (cli.getIncludes().isEmpty()) {
            opts.include(ModelThroughputBenchmark.class.getSimpleName());
        }
        Collection<RunResult> results = new Runner(opts.build()).run();
        Map<String, Double> ms = new HashMap<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            ms.put(name.substring(name.lastIndexOf('.') + 1), r.getPrimaryResult().getScore());
        }
        Double matmul = ms.get("matmul512x768x768");
        if (matmul == null) {
            return;
        }
        double matmulGflops = ModelThroughput.matmulFlops() / (matmul / 1000.0) / 1e9;
        double fwdFlops = io.splitfed.model.tensor.TensorExecutor.shared().call(() -> {
            try (ModelThroughput m = ModelThroughput.gpt2(12, 768, 12)) {
                return m.forwardFlops();
            }
        });
        System.out.println();
        System.out.printf(Locale.ROOT, "%-26s %12s %12s %8s%n", "benchmark", "ms/op", "GFLOP/s", "ratio");
        System.out.printf(Locale.ROOT, "%-26s %12.2f %12.1f %8s%n", "matmul512x768x768", matmul, matmulGflops, "1.000");
        print("stackForward", ms, fwdFlops, matmulGflops);
        print("stackForwardBackward", ms, 2 * fwdFlops, matmulGflops);
    }

    private static void print(String name, Map<String, Double> ms, double flops, double matmulGflops) {
        Double t = ms.get(name);
        if (t != null) {
            double g = flops / (t / 1000.0) / 1e9;
            System.out.printf(Locale.ROOT, "%-26s %12.2f %12.1f %8.3f%n", name, t, g, g / matmulGflops);
        }
    }
}
