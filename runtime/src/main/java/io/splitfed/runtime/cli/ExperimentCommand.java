package io.splitfed.runtime.cli;

import io.splitfed.model.io.AtomicFiles;
import io.splitfed.runtime.experiment.CellResult;
import io.splitfed.runtime.experiment.Experiment;
import io.splitfed.runtime.experiment.ExperimentRunner;
import io.splitfed.runtime.experiment.Experiments;
import io.splitfed.runtime.report.HtmlReport;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** Runs a named grid of jobs, caching each cell, and reports it. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Run a named experiment grid (cells cached: a rerun completes only missing ones) and write its report.")
public final class ExperimentCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", description = "Experiment name; --list shows them")
    String name;

    @Option(names = "--list", description = "List the experiments")
    boolean list;

    @Option(names = "--quick", description = "A smaller version of the same grid")
    boolean quick;

    @Option(names = "--force", description = "Re-run cached cells")
    boolean force;

    @Option(names = "--out", description = "Output directory (default: runs/experiment-<name>[-quick])")
    Path out;

    @Option(names = "--no-progress", description = "No progress bars")
    boolean noProgress;

    @Option(names = "--config", description = "A HOCON file of overrides applied to every cell")
    Path configFile;

    @Option(names = "--seeds", split = ",", description = "Run every cell once per seed (the paper experiment reports mean ± sd): 42,43,44")
    List<Long> seeds;

    @Override
    public Integer call() throws Exception {
        var all = Experiments.all();
        if (list || name == null) {
            all.values().forEach(e -> System.out.printf("%-12s %s%n", e.name(), e.description()));
            return 0;
        }
        Experiment e = all.get(name);
        if (e == null) {
            throw new UserError("unknown experiment '" + name + "'; expected one of " + all.keySet());
        }
        Config base = ConfigFactory.empty();
        if (configFile != null) {
            if (!Files.isRegularFile(configFile)) {
                throw new UserError("--config " + configFile + ": no such file");
            }
            base = ConfigFactory.parseFile(configFile.toFile());
        }
        Path dir = out != null ? out : Path.of("runs", "experiment-" + name + (quick ? "-quick" : ""));
        List<CellResult> results = new ExperimentRunner(base, dir, !noProgress).run(ExperimentRunner.withSeeds(e.cells(quick), seeds), force, (cell, settings) -> e.afterJob(cell, quick, settings));
        String command = "splitfed experiment " + name + (quick ? " --quick" : "")
                + (seeds == null ? "" : " --seeds " + seeds.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")));
        String title = "Experiment " + e.name() + (quick ? " (quick)" : "");
        String md = "# " + title + "\n\n" + e.description() + "\n\nCommand: `" + command + "`\n\n" + e.report(results, dir, quick);
        AtomicFiles.writeString(dir.resolve("report.md"), md);
        AtomicFiles.writeString(dir.resolve("report.html"), HtmlReport.render(title, md, dir));
        System.out.println(md);
        System.err.println("experiment: report in " + dir.resolve("report.md") + " and " + dir.resolve("report.html"));
        return 0;
    }
}
