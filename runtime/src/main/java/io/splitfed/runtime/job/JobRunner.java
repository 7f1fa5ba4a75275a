package io.splitfed.runtime.job;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.fleet.EmulatedTime;
import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.fleet.Fleets;
import io.splitfed.actors.job.HostSpeed;
import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.model.io.AtomicFiles;
import io.splitfed.model.lora.PeftAdapterFormat;
import io.splitfed.runtime.report.Calibration;
import io.splitfed.runtime.report.JobMetrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Prepares and runs one in-process job, with a progress bar, and saves what it produced. */
public final class JobRunner {

    /**
     * A finished job and where its outputs went; {@code scores} are what an {@link AfterJob} added.
     *
     * @param calibration the cost model against this host, when {@code splitfed.job.cost-model.calibrate} is on; else null
     * @param emulated the job's rounds in its fleet's time, when {@code splitfed.job.fleet} names one; else null
     */
    public record Outcome(JobSpec spec, JobResult result, JobMetrics metrics, Path metricsFile, Path adapterDir, Map<String, Double> scores,
            String evalDescription, Calibration calibration, EmulatedTime emulated) {

        /** The summary's lines on the cost model and emulated time; empty when there is neither. */
        public String costLines() {
            return (calibration == null ? "" : calibration.line()) + (emulated == null ? "" : emulated.lines());
        }
    }

    /** Scores a finished job while its model is still loaded (say, exact match by generation). */
    @FunctionalInterface
    public interface AfterJob {
        Map<String, Double> score(PreparedJob job, JobResult result) throws Exception;
    }

    private JobRunner() {}

    public static Outcome run(Config config, Path metricsOut, Path adapterOut, boolean progress, Consumer<JobEvent> extraListener) throws Exception {
        return run(config, metricsOut, adapterOut, progress, extraListener, null);
    }

    public static Outcome run(Config config, Path metricsOut, Path adapterOut, boolean progress, Consumer<JobEvent> extraListener, AfterJob after)
            throws Exception {
        io.splitfed.runtime.data.DataRoot.requireJobData(config); // a missing data set names the command that fetches it
        io.splitfed.model.tensor.TensorExecutor.shared().place(config.getString("splitfed.engine.device")); // before the model loads
        io.splitfed.model.tensor.TensorExecutor.shared().holdBaseIn(config.getString("splitfed.engine.base-precision"));
        JobSpec requested = JobSpec.fromConfig(config);
        String fleetName = config.getString("splitfed.job.fleet");
        // a fleet that cannot be built stops the job before its model loads; the host's is measured on the loaded model
        Fleet fleet = fleetName.isEmpty() || Fleets.HOST.equals(fleetName) ? null
                : Fleets.resolve(config, fleetName, requested.federation().devices(), requested.seed(), () -> {
                    throw new IllegalStateException("only the host fleet measures the host");
                });
        PreparedJob job = JobPreparation.prepare(requested);
        JobSpec spec = job.spec(); // with what "auto" settings came to
        // the host's speed on this model, measured before the job so that nothing else runs on the tensor thread
        HostSpeed host = config.getBoolean("splitfed.job.cost-model.calibrate") || Fleets.HOST.equals(fleetName)
                ? HostSpeed.measure(new JobPlan(job), config.getDuration("splitfed.job.cost-model.probe").toNanos() / 1e9)
                : null;
        if (Fleets.HOST.equals(fleetName)) {
            fleet = Fleets.resolve(config, fleetName, job.devices(), spec.seed(), () -> host);
        }
        long total = 0;
        for (int d = 0; d < job.devices(); d++) {
            total += (long) job.stepsPerRound(d) * spec.federation().rounds();
        }
        ProgressBar bar = progress ? new ProgressBarBuilder().setTaskName(spec.mode().id()).setInitialMax(total).setUnit(" mb", 1)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).showSpeed().build() : null;
        long[] before = {0};
        long wallStart = System.nanoTime();
        List<Double> wallRoundEnds = java.util.Collections.synchronizedList(new ArrayList<>());
        Consumer<JobEvent> events = e -> {
            if (e instanceof JobEvent.RoundClosed) {
                wallRoundEnds.add((System.nanoTime() - wallStart) / 1e9);
            }
            if (bar != null) {
                if (e instanceof JobEvent.RoundStarted s) {
                    before[0] = bar.getCurrent();
                    bar.setExtraMessage(String.format(Locale.ROOT, " round %d/%d", s.round() + 1, s.rounds()));
                } else if (e instanceof JobEvent.Progress p) {
                    bar.stepTo(before[0] + p.answered());
                } else if (e instanceof JobEvent.RoundClosed c) {
                    bar.setExtraMessage(String.format(Locale.ROOT, " round %d acc %.3f", c.summary().round() + 1, c.summary().accuracy()));
                }
            }
            if (extraListener != null) {
                extraListener.accept(e);
            }
        };
        JobResult result;
        double wallSeconds;
        Map<String, Double> scores = Map.of();
        try {
            // on a fleet, the job runs on its emulated clock
            TrainingJob.RunningJob running = fleet == null ? TrainingJob.run(job, config, events) : TrainingJob.run(job, config, events, fleet);
            result = running.result().get(spec.federation().roundDeadline().toMillis() * spec.federation().rounds() + 600_000, TimeUnit.MILLISECONDS);
            wallSeconds = (System.nanoTime() - wallStart) / 1e9;
            // the job's actors are gone before the next job (an experiment's next cell) starts
            running.terminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
            if (after != null) {
                scores = after.score(job, result);
            }
        } finally {
            if (bar != null) {
                bar.close();
            }
            io.splitfed.model.tensor.TensorExecutor.shared().run(job.model()::close);
        }
        Calibration calibration = host == null ? null : Calibration.of(spec.mode(), host, JobMetrics.of(result).totals());
        EmulatedTime emulated = null;
        if (fleet != null) {
            emulated = EmulatedTime.clocked(fleet, result, spec.pipeline().window(), config.getDoubleList("splitfed.job.accuracy-targets"), List.copyOf(wallRoundEnds));
            result = result.withWallSeconds(wallSeconds); // the reports' wall time is the host's
        }
        JobMetrics metrics = writeOutputs(config, job, result, metricsOut, adapterOut, calibration, emulated);
        return new Outcome(spec, result, metrics, metricsOut, adapterOut, scores, job.evalDescription(), calibration, emulated);
    }

    /** Writes a finished job's metrics JSON and its adapter (PEFT layout); either path may be null. */
    public static JobMetrics writeOutputs(Config config, PreparedJob job, JobResult result, Path metricsOut, Path adapterOut) throws Exception {
        return writeOutputs(config, job, result, metricsOut, adapterOut, null, null);
    }

    /**
     * As above, with {@code emulated}: the fleet's time ({@code emulated.seconds},
     * {@code emulated.time_to_accuracy}...) and the cost model's calibration
     * ({@code emulated.calibration}), each when there is one.
     */
    public static JobMetrics writeOutputs(Config config, PreparedJob job, JobResult result, Path metricsOut, Path adapterOut, Calibration calibration,
            EmulatedTime emulated) throws Exception {
        JobSpec spec = job.spec();
        JobMetrics metrics = JobMetrics.of(result);
        if (metricsOut != null) {
            Map<String, Object> cfg = new ObjectMapper().readValue(config.getConfig("splitfed.job").root().render(ConfigRenderOptions.concise()), Map.class);
            // what "auto" came to
            if (cfg.get("federation") instanceof Map<?, ?> federation) {
                @SuppressWarnings("unchecked")
                Map<String, Object> f = (Map<String, Object>) federation;
                f.put("epochs", spec.federation().epochs());
            }
            if (cfg.get("data") instanceof Map<?, ?> data) {
                @SuppressWarnings("unchecked")
                Map<String, Object> d = (Map<String, Object>) data;
                d.put("max-length", job.encoder().maxLength());
            }
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            Map<String, Object> out = metrics.toJson(cfg);
            out.put("validation", job.evalDescription());
            if (calibration != null || emulated != null) {
                Map<String, Object> e = emulated == null ? new java.util.LinkedHashMap<>() : emulated.toJson();
                if (calibration != null) {
                    e.put("calibration", calibration.toJson());
                }
                out.put("emulated", e);
            }
            AtomicFiles.writeString(metricsOut, json.writeValueAsString(out));
        }
        if (adapterOut != null) {
            Map<String, String> jobMeta = new java.util.LinkedHashMap<>();
            jobMeta.put("max_length", Integer.toString(job.encoder().maxLength()));
            jobMeta.put("pair_separator", spec.data().pairSeparator());
            jobMeta.put("labels", String.join("\t", job.train().labelNames()));
            PeftAdapterFormat.save(adapterOut, result.wholeAdapter(), new PeftAdapterFormat.Metadata(spec.model().path().toString(), job.model().config().family(),
                    job.head().peftTaskType(), jobMeta));
        }
        return metrics;
    }
}
