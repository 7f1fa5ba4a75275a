package io.splitfed.runtime.experiment;

import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.model.io.AtomicFiles;
import io.splitfed.runtime.job.JobRunner;
import io.splitfed.runtime.report.JobMetrics;
import io.splitfed.runtime.report.plot.PipelineGantt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Runs an experiment's cells one after another in this JVM, caching each cell's result under
 * {@code <out>/cells/}: a rerun completes only the cells that are missing or whose settings changed.
 */
public final class ExperimentRunner {

    /** Rounds without a prediction carry NaN, which JSON has no literal for. */
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build()
            .enable(SerializationFeature.INDENT_OUTPUT);

    private final Config base;
    private final Path out;
    private final boolean progress;

    /** @param base settings every cell starts from (the command's --config/--set), unresolved */
    public ExperimentRunner(Config base, Path out, boolean progress) {
        this.base = base;
        this.out = out;
        this.progress = progress;
    }

    public List<CellResult> run(List<Cell> cells, boolean force) throws Exception {
        return run(cells, force, (cell, settings) -> null);
    }

    /** Runs every cell not cached; {@code after} says what to score once a cell's job is done, from the cell and its resolved settings. */
    public List<CellResult> run(List<Cell> cells, boolean force, BiFunction<Cell, Config, JobRunner.AfterJob> after) throws Exception {
        List<CellResult> results = new ArrayList<>();
        int i = 0;
        for (Cell cell : cells) {
            i++;
            Config config = configFor(cell);
            String key = digest(config.getConfig("splitfed.job").root().render(ConfigRenderOptions.concise()));
            Path cached = out.resolve("cells").resolve(cell.id() + ".json");
            if (!force && Files.isRegularFile(cached)) {
                CellResult r = JSON.readValue(cached.toFile(), CellResult.class);
                if (key.equals(r.configKey())) {
                    System.err.printf(Locale.ROOT, "experiment: [%d/%d] %s cached (accuracy %.4f)%n", i, cells.size(), cell.id(), r.accuracy());
                    results.add(r);
                    continue;
                }
            }
            System.err.printf(Locale.ROOT, "experiment: [%d/%d] %s running...%n", i, cells.size(), cell.id());
            long cellStart = System.nanoTime();
            Path dir = out.resolve("runs").resolve(cell.id());
            JobRunner.Outcome o = JobRunner.run(config, dir.resolve("metrics.json"), null, progress, null, after.apply(cell, config));
            CellResult r = summarize(cell, key, o.metrics(), o.scores());
            AtomicFiles.writeString(cached, JSON.writeValueAsString(r));
            System.err.printf(Locale.ROOT, "experiment: [%d/%d] %s %s, job %.0f s, cell %.0f s%n", i, cells.size(), cell.id(), score(r),
                    r.wallSeconds(), (System.nanoTime() - cellStart) / 1e9);
            results.add(r);
        }
        return results;
    }

    /** A finished cell's headline: accuracy, or (language modelling) eval loss and any exact match. */
    private static String score(CellResult r) {
        if (!Double.isNaN(r.accuracy())) {
            return String.format(Locale.ROOT, "accuracy %.4f", r.accuracy());
        }
        String loss = String.format(Locale.ROOT, "eval loss %.4f", r.evalLoss());
        return Double.isNaN(r.extra("exactMatch")) ? loss : loss + String.format(Locale.ROOT, ", exact match %.3f", r.extra("exactMatch"));
    }

    private Config configFor(Cell cell) {
        Map<String, Object> plain = new LinkedHashMap<>();
        Config files = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : cell.overrides().entrySet()) {
            if (e.getValue() instanceof Experiment.DataFile f) {
                files = ConfigFactory.parseString("splitfed.job." + e.getKey() + " = ${splitfed.data-root}" + ConfigUtil.quoteString("/" + f.relative()))
                        .withFallback(files);
            } else {
                plain.put(e.getKey(), e.getValue());
            }
        }
        return JobConfig.load(JobConfig.jobSettings(plain).withFallback(files).withFallback(base));
    }

    /** Every cell once per seed: ids get "-s<seed>" and the labels a "seed" (one seed: the cells as they are, with that seed). */
    public static List<Cell> withSeeds(List<Cell> cells, List<Long> seeds) {
        if (seeds == null || seeds.isEmpty()) {
            return cells;
        }
        List<Cell> out = new ArrayList<>();
        for (Cell c : cells) {
            for (long seed : seeds) {
                Map<String, Object> o = new LinkedHashMap<>(c.overrides());
                o.put("seed", seed);
                Map<String, String> labels = new LinkedHashMap<>(c.labels());
                labels.put("seed", Long.toString(seed));
                out.add(new Cell(seeds.size() == 1 ? c.id() : c.id() + "-s" + seed, o, labels));
            }
        }
        return out;
    }

    /** Events kept per cell for its Gantt chart: the start of its second round (the first when there is one). */
    static final int GANTT_EVENTS = 2500;

    static CellResult summarize(Cell cell, String key, JobMetrics m, Map<String, Double> scores) {
        List<Double> acc = new ArrayList<>();
        List<Double> secs = new ArrayList<>();
        List<Double> train = new ArrayList<>();
        List<Double> predicted = new ArrayList<>();
        double t = 0;
        for (RoundSummary r : m.rounds()) {
            t += r.seconds();
            acc.add(r.accuracy());
            secs.add(t);
            train.add(r.trainSeconds());
            predicted.add(r.predictedSeconds());
        }
        List<double[]> curve = new ArrayList<>();
        List<StepLoss> losses = m.stepLosses();
        int window = Math.max(1, losses.size() / 100);
        for (int s = 0; s < losses.size(); s += window) {
            double sum = 0;
            int n = 0;
            for (int j = s; j < Math.min(losses.size(), s + window); j++) {
                sum += losses.get(j).loss();
                n++;
            }
            curve.add(new double[] {s + n / 2.0, sum / n});
        }
        var tot = m.totals();
        long samples = m.samplesTrained();
        Map<String, Double> extra = new LinkedHashMap<>();
        extra.put("cachedShare", m.devices().values().stream().mapToDouble(d -> d.cachedMicroBatches()).sum()
                / Math.max(1, m.devices().values().stream().mapToDouble(d -> d.microBatches()).sum()));
        if (scores != null) {
            extra.putAll(scores);
        }
        int ganttRound = m.rounds().size() > 1 ? m.rounds().get(1).round() : m.rounds().isEmpty() ? 0 : m.rounds().get(0).round();
        return new CellResult(cell.id(), cell.labels(), key, m.accuracy(), m.evalLoss(), m.wallSeconds(), samples,
                tot.deviceSecondsPerSample(), samples == 0 ? 0 : tot.deviceFlops() / samples / 1e9, tot.serverComputeSeconds(),
                tot.bytesUp(), tot.bytesDown(), acc, secs, train, predicted, curve, extra,
                PipelineGantt.sample(m.timeline(), ganttRound, GANTT_EVENTS));
    }

    static String digest(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
