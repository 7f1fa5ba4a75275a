package io.splitfed.runtime.cli;

import io.splitfed.runtime.bench.BenchReport;
import io.splitfed.runtime.bench.BenchSuite;
import io.splitfed.runtime.bench.ChurnSuite;
import io.splitfed.runtime.bench.Comparison;
import io.splitfed.runtime.bench.FleetSuite;
import io.splitfed.runtime.bench.ModelSuite;
import io.splitfed.runtime.bench.OptimizerSuite;
import io.splitfed.runtime.bench.PipelineSuite;
import io.splitfed.runtime.bench.ScaleSuite;
import io.splitfed.runtime.bench.WireSuite;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Runs the project's benchmarks in one process and reports every figure as a ratio to its reference. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Run benchmarks (each figure beside its reference, measured in the same run) and write BENCHMARKS.md.",
            "With --suite, only those suites' sections of an existing file are replaced."})
public final class BenchCommand implements Callable<Integer> {

    static Map<String, BenchSuite> suites() {
        Map<String, BenchSuite> all = new LinkedHashMap<>();
        for (BenchSuite s : List.<BenchSuite>of(new ModelSuite(), new PipelineSuite(), new WireSuite(), new OptimizerSuite(), new ScaleSuite(), new FleetSuite(), new ChurnSuite())) {
            all.put(s.name(), s);
        }
        return all;
    }

    @Option(names = "--suite", split = ",", description = "Suites to run (default: all): ${COMPLETION-CANDIDATES}", completionCandidates = SuiteNames.class)
    List<String> only;

    @Option(names = "--quick", description = "Fewer repetitions: a smoke run, not a measurement")
    boolean quick;

    @Option(names = "--out", defaultValue = "BENCHMARKS.md", description = "Markdown report (default: ${DEFAULT-VALUE})")
    Path out;

    static final class SuiteNames extends ArrayList<String> {
        SuiteNames() {
            super(suites().keySet());
        }
    }

    @Override
    public Integer call() throws Exception {
        Map<String, BenchSuite> all = suites();
        List<String> names = only == null ? new ArrayList<>(all.keySet()) : only;
        List<Comparison> rows = new ArrayList<>();
        for (String n : names) {
            BenchSuite s = all.get(n);
            if (s == null) {
                throw new UserError("unknown suite '" + n + "'; expected one of " + all.keySet());
            }
            System.err.println("bench: " + s.name() + " - " + s.description());
            rows.addAll(s.run(quick));
        }
        System.out.print(BenchReport.table(rows));
        String machine = Runtime.getRuntime().availableProcessors() + " cores, " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB max heap";
        String md = BenchReport.markdown(rows, "splitfed bench" + (only == null ? "" : " --suite " + String.join(",", only)) + (quick ? " --quick" : ""), machine);
        if (only != null && Files.isRegularFile(out)) {
            md = BenchReport.merge(Files.readString(out), md, new ArrayList<>(all.keySet())); // the other suites' sections stay
        }
        BenchReport.write(out, md);
        System.err.println("bench: wrote " + out.toAbsolutePath());
        return 0;
    }
}
