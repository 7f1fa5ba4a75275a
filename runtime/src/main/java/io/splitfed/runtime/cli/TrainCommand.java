package io.splitfed.runtime.cli;

import io.splitfed.runtime.job.JobRunner;
import io.splitfed.runtime.metrics.LiveMetrics;
import io.splitfed.runtime.metrics.MetricsEndpoint;
import io.splitfed.runtime.report.Summary;

import com.typesafe.config.ConfigValueFactory;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;

/** Runs a training job with every device, shard and the aggregator as actors in this JVM. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune with SplitFrozen, SFL, FedLoRA or centralized LoRA, everything in one JVM.",
            "Defaults: SplitFrozen on SST-2, 8 devices, the pretrained all-MiniLM-L6-v2 encoder (built in)."})
public final class TrainCommand implements Callable<Integer> {

    @Mixin
    JobOptions job;

    @Option(names = "--out", description = "Output directory (default: runs/<mode>-<time>)")
    Path out;

    @Option(names = "--metrics-out", description = "Metrics JSON (default: <out>/metrics.json)")
    Path metricsOut;

    @Option(names = "--adapter-out", description = "Trained adapter in PEFT layout (default: <out>/adapter)")
    Path adapterOut;

    @Option(names = "--no-progress", description = "No progress bar")
    boolean noProgress;

    @Option(names = "--metrics-port", description = "Serve live Prometheus metrics at http://HOST:PORT/metrics, and a live page at http://HOST:PORT/, while the job runs (0: a free port)")
    Integer metricsPort;

    @Option(names = "--calibrate", description = "Measure this host's speed on the job's model first (about 5 s), and report the job's compute "
            + "modelled from its FLOPs at that speed beside what it measured (the summary's cost-model line; metrics.json's emulated.calibration)")
    boolean calibrate;

    @Option(names = "--fleet", paramLabel = "NAME|FILE", description = "Run the job on a fleet's emulated clock: host (this machine, measured), phones "
            + "(mid-range phones on LTE, an A100-class server), trace (phones drawn from FLASH's trace) or a fleet file. Every compute step, message "
            + "and timer takes its time on the fleet; the summary and metrics.json add emulated time per round, time to accuracy and device "
            + "energy (docs/fleets.md)")
    String fleet;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1", description = "Address the metrics endpoint listens on (default: ${DEFAULT-VALUE})")
    String metricsHost;

    @Override
    public Integer call() throws Exception {
        var config = job.config();
        if (calibrate) {
            config = config.withValue("splitfed.job.cost-model.calibrate", ConfigValueFactory.fromAnyRef(true));
        }
        if (fleet != null) {
            config = config.withValue("splitfed.job.fleet", ConfigValueFactory.fromAnyRef(fleet));
        }
        String mode = config.getString("splitfed.job.mode");
        Path dir = out != null ? out : Path.of("runs", mode + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Path metrics = metricsOut != null ? metricsOut : dir.resolve("metrics.json");
        Path adapter = adapterOut != null ? adapterOut : dir.resolve("adapter");
        LiveMetrics live = metricsPort == null ? null : new LiveMetrics();
        String checkpointDir = config.hasPath("splitfed.job.checkpoint.dir") ? config.getString("splitfed.job.checkpoint.dir") : "";
        io.splitfed.runtime.job.StopSignals.watch(checkpointDir.isBlank() ? null : Path.of(checkpointDir));
        JobRunner.Outcome o;
        try (MetricsEndpoint endpoint = live == null ? null : MetricsEndpoint.start(live, metricsHost, metricsPort)) {
            if (endpoint != null) {
                System.err.println("metrics: " + endpoint.url() + "; live page: " + endpoint.pageUrl());
            }
            o = JobRunner.run(config, metrics, adapter, !noProgress, live);
        }
        System.out.print(Summary.render(o.spec(), o.metrics(), o.costLines() + "validation " + o.evalDescription() + "\nmetrics " + metrics
                + "\nadapter " + adapter + " (PEFT layout)\n"));
        return 0;
    }
}
