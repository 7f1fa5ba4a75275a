package io.splitfed.runtime.experiment;

import io.splitfed.runtime.job.JobRunner;
import io.splitfed.runtime.report.plot.Charts;
import io.splitfed.runtime.report.plot.PipelineGantt;

import org.jfree.chart.JFreeChart;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The papers' comparison: SplitFrozen against SFL (SplitLoRA / SflLLM), FedLoRA and centralized
 * LoRA on SST-2, MRPC and MNLI under IID, Dirichlet(0.5) and one-label-per-device data, reporting
 * accuracy, device compute, bytes on the wire and the wall time to a target accuracy; and GSM8K
 * with the Llama model as the generative case, scored by loss and exact match.
 */
public final class PaperExperiment implements Experiment {

    /** A data set of the grid: where it is, how long its sequences are allowed to be. */
    record Task(String id, String title, String train, String eval, int maxLength) {}

    static final List<Task> TASKS = List.of(
            new Task("sst2", "SST-2", "sst2/train.tsv", null, 64),
            new Task("mrpc", "MRPC", "mrpc/train.tsv", null, 128),
            new Task("mnli", "MNLI-matched", "mnli/glue_pretrain_MNLI/train.json", "mnli/glue_pretrain_MNLI/dev.json", 128));
    static final Task GSM8K = new Task("gsm8k", "GSM8K", "gsm8k/train.jsonl", null, 256);

    static final List<String> METHODS = List.of("splitfrozen", "sfl", "fedlora", "centralized");
    static final List<String> PARTITIONS = List.of("iid", "dirichlet:0.5", "classes:1");
    static final List<String> GSM8K_METHODS = List.of("splitfrozen", "sfl", "centralized");
    /** The one-label column, where the papers' methods differ most, runs these seeds in the full grid (mean ± sd). */
    static final String ONE_LABEL = "classes:1";
    static final List<Long> ONE_LABEL_SEEDS = List.of(42L, 43L, 44L);

    /** The wall-time target: this share of centralized LoRA's final accuracy on the same task. */
    static final double TARGET_SHARE = 0.95;

    @Override
    public String name() {
        return "paper";
    }

    @Override
    public String description() {
        return "The papers' grid: splitfrozen, sfl, fedlora, centralized x SST-2, MRPC, MNLI x IID, Dirichlet(0.5), one label per device;"
                + " GSM8K (Llama) loss and exact match";
    }

    @Override
    public List<Cell> cells(boolean quick) {
        List<Cell> cells = new ArrayList<>();
        for (Task task : TASKS) {
            for (String partition : PARTITIONS) {
                for (String method : METHODS) {
                    if (method.equals("centralized") && !partition.equals("iid")) {
                        continue; // one server sees all the data whatever the partition
                    }
                    Map<String, Object> o = common(task, quick);
                    o.put("mode", method);
                    o.put("federation.partition", partition);
                    Cell cell = new Cell(task.id() + "-" + partition.replace(':', '-') + "-" + method, o,
                            Map.of("task", task.id(), "method", method, "partition", partition));
                    cells.addAll(partition.equals(ONE_LABEL) && !quick ? ExperimentRunner.withSeeds(List.of(cell), ONE_LABEL_SEEDS) : List.of(cell));
                }
            }
        }
        for (String method : GSM8K_METHODS) {
            Map<String, Object> o = common(GSM8K, quick);
            // generation needs a pretrained decoder: stories260K (the classification tasks run on the default encoder)
            o.put("model.path", new DataFile("models/stories260K/stories260K.bin"));
            o.put("model.tokenizer", new DataFile("models/stories260K/tok512.bin"));
            o.put("mode", method);
            o.put("federation.partition", "iid");
            // a 512-token context: room for a question and its worked answer
            o.put("data.train-limit", quick ? 300 : 1200);
            o.put("data.eval-limit", quick ? 20 : 100);
            o.put("training.micro-batch", 8);
            o.put("federation.epochs", quick ? 1 : 2);
            cells.add(new Cell("gsm8k-iid-" + method, o, Map.of("task", GSM8K.id(), "method", method, "partition", "iid")));
        }
        return cells;
    }

    private static Map<String, Object> common(Task task, boolean quick) {
        Map<String, Object> o = new LinkedHashMap<>();
        boolean pairs = task.maxLength() > 64;
        o.put("data.train", new DataFile(task.train()));
        o.put("data.eval", task.eval() == null ? "" : new DataFile(task.eval()));
        // sized so that the grid runs on 2 cores and all-MiniLM-L6-v2 in 90 minutes (quick: 20): a pair
        // costs about three SST-2 phrases, so pair tasks get fewer examples, rounds and held-out pairs;
        // quick cuts pairs to 64 tokens (the second sentence loses its tail)
        o.put("data.max-length", quick ? Math.min(task.maxLength(), 64) : task.maxLength());
        o.put("data.pair-max-length", quick ? Math.min(task.maxLength(), 64) : task.maxLength());
        o.put("data.train-limit", quick ? (pairs ? 350 : 800) : (pairs ? 800 : 1600));
        o.put("data.eval-limit", quick ? 300 : (pairs ? 400 : 600));
        o.put("federation.rounds", quick || pairs ? 3 : 4);
        o.put("federation.epochs", 2);
        return o;
    }

    @Override
    public JobRunner.AfterJob afterJob(Cell cell, boolean quick, com.typesafe.config.Config settings) {
        if (!cell.label("task").equals(GSM8K.id())) {
            return null;
        }
        // greedy decoding re-runs the whole prefix per token (no KV cache): the quick grid caps the answer
        return quick ? ExactMatch.of(10, 64) : ExactMatch.of(30, 160);
    }

    @Override
    public String report(List<CellResult> results, Path outDir, boolean quick) {
        Grid grid = new Grid(results);
        Path fig = outDir.resolve("figures");
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Accuracy in %% on held-out data%s. Device compute and bytes are per trained sample, from the IID cell. "
                + "\"Time to target\" is the wall time until evaluation accuracy first reached %.0f%% of centralized LoRA's final accuracy on "
                + "the task (IID; - : never). Centralized LoRA sees all the data whatever the partition: its one cell is shown in every column.%n%n", grid.seeds() > 1 ? " (mean ± sd over the seeds each cell ran: " + grid.seeds() + " in the one-label column)" : "", 100 * TARGET_SHARE));
        for (Task task : TASKS) {
            CellResult central = grid.first(task.id(), "iid", "centralized");
            double target = central == null ? Double.NaN : TARGET_SHARE * grid.mean(task.id(), "iid", "centralized", CellResult::accuracy);
            sb.append("### ").append(task.title()).append("\n\n");
            sb.append("| method | IID | Dirichlet(0.5) | one label per device | device GFLOP / sample | device ms / sample | KB on the wire / sample |"
                    + " time to target (s) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
            for (String method : METHODS) {
                sb.append("| ").append(method).append(" | ");
                for (String p : PARTITIONS) {
                    String partition = method.equals("centralized") ? "iid" : p;
                    sb.append(grid.accuracy(task.id(), partition, method)).append(" | ");
                }
                CellResult iid = grid.first(task.id(), "iid", method);
                if (iid == null) {
                    sb.append("- | - | - | - |\n");
                    continue;
                }
                double perSample = iid.samples() == 0 ? Double.NaN : (iid.bytesUp() + iid.bytesDown()) / 1024.0 / iid.samples();
                sb.append(String.format(Locale.ROOT, "%.4f | %.3f | %.1f | %s |%n", iid.deviceGflopsPerSample(), 1000 * iid.deviceSecondsPerSample(),
                        perSample, seconds(grid.mean(task.id(), "iid", method, r -> r.secondsToAccuracy(target)))));
            }
            sb.append('\n');
        }
        sb.append("### GSM8K (stories260K, a Llama-2 architecture)\n\n");
        sb.append("| method | eval loss | exact match | questions | device GFLOP / sample | wall s |\n|---|---:|---:|---:|---:|---:|\n");
        for (String method : GSM8K_METHODS) {
            CellResult r = grid.first(GSM8K.id(), "iid", method);
            if (r == null) {
                continue;
            }
            sb.append(String.format(Locale.ROOT, "| %s | %.3f | %.1f%% | %.0f | %.4f | %.0f |%n", method, r.evalLoss(), 100 * r.extra("exactMatch"),
                    r.extra("exactMatchQuestions"), r.deviceGflopsPerSample(), r.wallSeconds()));
        }
        sb.append('\n').append(checks(grid)).append('\n');
        sb.append(figures(grid, fig));
        return sb.toString();
    }

    private static String checks(Grid grid) {
        StringBuilder sb = new StringBuilder("**Against the papers' claims**\n\n");
        for (Task task : TASKS) {
            double sf = grid.mean(task.id(), "classes:1", "splitfrozen", CellResult::accuracy);
            double fl = grid.mean(task.id(), "classes:1", "fedlora", CellResult::accuracy);
            double sfl = grid.mean(task.id(), "classes:1", "sfl", CellResult::accuracy);
            sb.append(String.format(Locale.ROOT, "- %s, one label per device: splitfrozen %+.1f points against fedlora, %+.1f against sfl "
                    + "(SplitFrozen reports up to +69.4%%).%n", task.title(), 100 * (sf - fl), 100 * (sf - sfl)));
        }
        for (Task task : TASKS) {
            CellResult sf = grid.first(task.id(), "iid", "splitfrozen");
            CellResult fl = grid.first(task.id(), "iid", "fedlora");
            if (sf != null && fl != null) {
                sb.append(String.format(Locale.ROOT, "- %s: splitfrozen's device FLOPs per sample are %.1f%% below fedlora's, its measured device time "
                        + "%.1f%% below (SplitFrozen reports up to 86.8%%).%n", task.title(), 100 * (1 - sf.deviceGflopsPerSample() / fl.deviceGflopsPerSample()),
                        100 * (1 - sf.deviceSecondsPerSample() / fl.deviceSecondsPerSample())));
            }
        }
        return sb.toString();
    }

    /** Writes the PNGs and returns the markdown that shows them. */
    private static String figures(Grid grid, Path dir) {
        StringBuilder sb = new StringBuilder("### Figures\n\n");
        List<Task> all = new ArrayList<>(TASKS);
        all.add(GSM8K);
        for (Task task : all) {
            Map<String, List<double[]>> loss = new LinkedHashMap<>();
            Map<String, List<double[]>> acc = new LinkedHashMap<>();
            for (String method : METHODS) {
                CellResult r = grid.first(task.id(), "iid", method);
                if (r == null || r.lossCurve().isEmpty()) {
                    continue;
                }
                loss.put(method, smoothed(r.lossCurve()));
                List<double[]> points = new ArrayList<>();
                for (int i = 0; i < r.roundAccuracy().size(); i++) {
                    points.add(new double[] {r.roundSeconds().get(i), 100 * r.roundAccuracy().get(i)});
                }
                acc.put(method, points);
            }
            if (loss.isEmpty()) {
                continue;
            }
            sb.append(figure(dir, "loss-" + task.id() + ".png", task.title() + " training loss",
                    Charts.curves(task.title() + ", IID: training loss (moving average)", "share of training", "loss", loss)));
            if (task != GSM8K) {
                sb.append(figure(dir, "accuracy-" + task.id() + ".png", task.title() + " accuracy over time",
                        Charts.curves(task.title() + ", IID: accuracy after each round", "wall seconds", "accuracy %", acc)));
                Map<String, Map<String, Double>> bars = new LinkedHashMap<>();
                for (String p : PARTITIONS) {
                    Map<String, Double> byMethod = new LinkedHashMap<>();
                    for (String method : METHODS) {
                        byMethod.put(method, 100 * grid.mean(task.id(), method.equals("centralized") ? "iid" : p, method, CellResult::accuracy));
                    }
                    bars.put(partitionTitle(p), byMethod);
                }
                sb.append(figure(dir, "partitions-" + task.id() + ".png", task.title() + " accuracy by partition",
                        Charts.bars(task.title() + ": accuracy by data partition", "partition", "accuracy %", bars)));
            }
        }
        Map<String, Map<String, Double>> compute = new LinkedHashMap<>();
        for (Task task : TASKS) {
            Map<String, Double> byMethod = new LinkedHashMap<>();
            for (String method : METHODS) {
                CellResult r = grid.first(task.id(), "iid", method);
                if (r != null) {
                    byMethod.put(method, 1000 * r.deviceSecondsPerSample());
                }
            }
            compute.put(task.title(), byMethod);
        }
        sb.append(figure(dir, "device-compute.png", "device compute per sample",
                Charts.bars("Device compute per trained sample (IID)", "task", "device ms / sample", compute)));
        for (String method : List.of("splitfrozen", "sfl", "fedlora")) {
            CellResult r = grid.first("sst2", "iid", method);
            if (r != null && r.timeline() != null && !r.timeline().isEmpty()) {
                sb.append(figure(dir, "gantt-" + method + ".png", method + " pipeline timeline",
                        PipelineGantt.of("Pipeline, " + method + " on SST-2 (start of round " + (r.timeline().get(0).round() + 1) + ")", r.timeline())));
            }
        }
        return sb.toString();
    }

    /** The loss curve against the share of training done, as a moving average over 9 of its windows. */
    static List<double[]> smoothed(List<double[]> curve) {
        double last = Math.max(1, curve.get(curve.size() - 1)[0]);
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < curve.size(); i++) {
            double sum = 0;
            int n = 0;
            for (int j = Math.max(0, i - 4); j <= Math.min(curve.size() - 1, i + 4); j++) {
                sum += curve.get(j)[1];
                n++;
            }
            out.add(new double[] {curve.get(i)[0] / last, sum / n});
        }
        return out;
    }

    static String partitionTitle(String p) {
        return switch (p) {
            case "iid" -> "IID";
            case "classes:1" -> "one label per device";
            default -> p.startsWith("dirichlet:") ? "Dirichlet(" + p.substring(10) + ")" : p;
        };
    }

    /** Writes {@code chart} to {@code dir/file} and returns the markdown that shows it. */
    private static String figure(Path dir, String file, String alt, JFreeChart chart) {
        Charts.png(chart, dir.resolve(file));
        return "![" + alt + "](figures/" + file + ")\n\n";
    }

    private static String seconds(double s) {
        return Double.isNaN(s) ? "-" : String.format(Locale.ROOT, "%.0f", s);
    }

    /** The results by task, partition and method, over seeds. */
    static final class Grid {
        private final Map<String, List<CellResult>> cells = new LinkedHashMap<>();

        Grid(List<CellResult> results) {
            for (CellResult r : results) {
                cells.computeIfAbsent(key(r.label("task"), r.label("partition"), r.label("method")), k -> new ArrayList<>()).add(r);
            }
        }

        static String key(String task, String partition, String method) {
            return task + "/" + partition + "/" + method;
        }

        int seeds() {
            return cells.values().stream().mapToInt(List::size).max().orElse(1);
        }

        CellResult first(String task, String partition, String method) {
            List<CellResult> l = cells.get(key(task, partition, method));
            return l == null || l.isEmpty() ? null : l.get(0);
        }

        double mean(String task, String partition, String method, ToDoubleFunction<CellResult> f) {
            List<CellResult> l = cells.getOrDefault(key(task, partition, method), List.of());
            return l.stream().mapToDouble(f).average().orElse(Double.NaN);
        }

        String accuracy(String task, String partition, String method) {
            List<CellResult> l = cells.getOrDefault(key(task, partition, method), List.of());
            if (l.isEmpty()) {
                return "-";
            }
            double m = mean(task, partition, method, CellResult::accuracy);
            if (l.size() == 1) {
                return String.format(Locale.ROOT, "%.1f", 100 * m);
            }
            double var = l.stream().mapToDouble(r -> (r.accuracy() - m) * (r.accuracy() - m)).sum() / (l.size() - 1);
            return String.format(Locale.ROOT, "%.1f ± %.1f", 100 * m, 100 * Math.sqrt(var));
        }
    }
}
