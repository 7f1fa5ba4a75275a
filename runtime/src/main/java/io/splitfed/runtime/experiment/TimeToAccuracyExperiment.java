package io.splitfed.runtime.experiment;

import io.splitfed.actors.fleet.EmulatedTime;
import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.fleet.Fleets;
import io.splitfed.runtime.job.JobRunner.AfterJob;
import io.splitfed.runtime.report.plot.Charts;

import com.typesafe.config.Config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The papers' question, "which method reaches the target first on this fleet, and when": the
 * four methods on SST-2, each run on the emulated clock of each fleet of
 * {@code splitfed.experiments.time-to-accuracy.fleets}, as {@code train --fleet} runs it;
 * SplitFrozen also planned by {@code sflllm} and {@code sflam}, which see the fleet; and on the
 * trace, SplitFrozen with a round deadline. Run with {@code --seeds} for error bars.
 */
public final class TimeToAccuracyExperiment implements Experiment {

    static final List<String> METHODS = List.of("splitfrozen", "sfl", "fedlora", "centralized");

    @Override
    public String name() {
        return "time-to-accuracy";
    }

    @Override
    public String description() {
        return "SST-2: SplitFrozen, SFL, FedLoRA and centralized LoRA, each run on the emulated clock of the phones and trace fleets, SplitFrozen "
                + "planned by sflllm and sflam, and with a deadline, late work dropped or applied: emulated time to target accuracy, device energy and bytes";
    }

    @Override
    public List<Cell> cells(boolean quick) {
        List<Cell> cells = new ArrayList<>();
        List<String> fleets = fleets(com.typesafe.config.ConfigFactory.load());
        for (String fleet : fleets) {
            for (String method : METHODS) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("mode", method);
                o.put("fleet", fleet);
                o.put("data.train-limit", quick ? 2000 : 4000);
                o.put("data.eval-limit", 1000);
                o.put("federation.rounds", quick ? 3 : 6);
                o.put("federation.epochs", quick ? 1 : 2);
                cells.add(new Cell("tta-" + fleet + "-" + method + (quick ? "-quick" : ""), o, Map.of("method", method, "fleet", fleet)));
            }
        }
        // no planner against the planners, which see the fleet's speeds and links: SplitFrozen, the main job, on each fleet
        for (String fleet : fleets) {
            for (String policy : PLANNERS) {
                Map<String, Object> o = new LinkedHashMap<>(splitFrozen(cells, fleet));
                o.put("planning.policy", policy);
                String method = "splitfrozen, " + policy + " planner";
                cells.add(new Cell("tta-" + fleet + "-splitfrozen-" + policy + (quick ? "-quick" : ""), o, Map.of("method", method, "fleet", fleet)));
            }
        }
        // synchronous rounds with a deadline against late updates applied (FedBuff-style), where phones differ: on the trace
        for (String late : List.of("drop", "apply")) {
            Map<String, Object> o = new LinkedHashMap<>(splitFrozen(cells, "trace"));
            if (o.isEmpty()) {
                break; // no trace fleet in this grid
            }
            o.put("federation.round-deadline", DEADLINE);
            o.put("robustness.late-updates", late);
            String method = "splitfrozen, " + DEADLINE + " deadline, late " + (late.equals("drop") ? "dropped" : "applied");
            cells.add(new Cell("tta-trace-splitfrozen-deadline-" + late + (quick ? "-quick" : ""), o, Map.of("method", method, "fleet", "trace")));
        }
        return cells;
    }

    /** The planners compared with none ({@code planning.policy}). */
    static final List<String> PLANNERS = List.of("sflllm", "sflam");

    /** The settings of the plain SplitFrozen cell on {@code fleet}; none when the grid has no such fleet. */
    private static Map<String, Object> splitFrozen(List<Cell> cells, String fleet) {
        return cells.stream().filter(c -> c.label("fleet").equals(fleet) && c.label("method").equals("splitfrozen"))
                .findFirst().map(Cell::overrides).orElse(Map.of());
    }

    /**
     * The round deadline of the late-update comparison: on the trace's draws for seeds 42 and 43,
     * SplitFrozen's synchronous rounds take 20 to 105 emulated seconds, as the slowest phone drawn
     * allows; 30 s cuts the slow draws' stragglers and leaves the fast ones alone.
     */
    static final String DEADLINE = "30s";

    /** What the cell's run measured on its fleet's clock, and the devices' energy there. */
    @Override
    public AfterJob afterJob(Cell cell, boolean quick, Config settings) {
        return (job, result) -> {
            Fleet fleet = Fleets.resolve(settings, settings.getString("splitfed.job.fleet"), job.devices(), job.spec().seed(), () -> {
                throw new IllegalArgumentException("the time-to-accuracy experiment runs on named fleets, not on the host");
            });
            EmulatedTime t = EmulatedTime.clocked(fleet, result, job.spec().pipeline().window(), List.of(), List.of());
            Map<String, Double> out = new LinkedHashMap<>();
            out.put("emulated.seconds", t.seconds());
            out.put("emulated.modelled", t.modelledSeconds());
            out.put("emulated.joules", t.deviceJoules());
            for (EmulatedTime.Round r : t.rounds()) {
                out.put("emulated.end." + r.round(), r.endSeconds());
            }
            return out;
        };
    }

    static List<String> fleets(Config settings) {
        return settings.getStringList("splitfed.experiments.time-to-accuracy.fleets");
    }

    static List<Double> targets(Config settings) {
        return settings.getDoubleList("splitfed.experiments.time-to-accuracy.targets");
    }

    /** The emulated clock at the end of each round of {@code r}. */
    static List<Double> ends(CellResult r) {
        List<Double> ends = new ArrayList<>();
        for (int i = 0; !Double.isNaN(r.extra("emulated.end." + i)); i++) {
            ends.add(r.extra("emulated.end." + i));
        }
        return ends;
    }

    static double timeTo(CellResult r, double target) {
        List<Double> ends = ends(r);
        for (int i = 0; i < Math.min(ends.size(), r.roundAccuracy().size()); i++) {
            if (r.roundAccuracy().get(i) >= target) {
                return ends.get(i);
            }
        }
        return Double.NaN;
    }

    @Override
    public String report(List<CellResult> results, Path outDir, boolean quick) throws Exception {
        List<Double> targets = targets(com.typesafe.config.ConfigFactory.load());
        List<String> fleets = results.stream().map(r -> r.label("fleet")).distinct().toList();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Each job ran on its fleet's emulated clock (docs/fleets.md). "
                + "Mean ± sd over the seeds each method ran (%d jobs in all). Time to a target is the emulated clock at the end of the first round "
                + "whose held-out accuracy reaches it; '-' where a seed never reached it (then the mean is over the seeds that did, and says how many).%n%n",
                results.size()));
        for (String fleet : fleets) {
            sb.append("**").append(fleet).append("**\n\n| method | final accuracy |");
            for (double t : targets) {
                sb.append(String.format(Locale.ROOT, " time to %.0f%% |", 100 * t));
            }
            sb.append(" emulated total | device energy | bytes up |\n|---|---:|");
            sb.append(" ---:|".repeat(targets.size())).append(" ---:| ---:| ---:|\n");
            for (String method : results.stream().filter(r -> r.label("fleet").equals(fleet)).map(r -> r.label("method")).distinct().toList()) {
                List<CellResult> runs = results.stream().filter(r -> r.label("fleet").equals(fleet) && r.label("method").equals(method)).toList();
                if (runs.isEmpty()) {
                    continue;
                }
                sb.append("| ").append(method).append(" | ").append(Stats.of(runs.stream().map(r -> 100 * r.accuracy()).toList()).text("%.1f")).append(" |");
                for (double t : targets) {
                    List<Double> times = runs.stream().map(r -> timeTo(r, t)).toList();
                    sb.append(' ').append(Stats.reached(times)).append(" |");
                }
                sb.append(' ').append(Stats.of(runs.stream().map(r -> r.extra("emulated.seconds")).toList()).text("%.1f s")).append(" |");
                sb.append(' ').append(Stats.of(runs.stream().map(r -> r.extra("emulated.joules")).toList()).text("%.0f J")).append(" |");
                sb.append(method.equals("centralized") ? " - |\n" // no device, no link
                        : String.format(Locale.ROOT, " %.0f MiB |%n", runs.stream().mapToDouble(CellResult::bytesUp).average().orElse(0) / (1 << 20)));
            }
            sb.append('\n');
            Map<String, List<double[]>> curves = new LinkedHashMap<>();
            for (CellResult r : results.stream().filter(r -> r.label("fleet").equals(fleet)).toList()) {
                List<Double> ends = ends(r);
                List<double[]> points = new ArrayList<>();
                for (int i = 0; i < Math.min(ends.size(), r.roundAccuracy().size()); i++) {
                    points.add(new double[] {ends.get(i), 100 * r.roundAccuracy().get(i)});
                }
                curves.put(r.label("method") + (r.label("seed").isEmpty() ? "" : " seed " + r.label("seed")), points);
            }
            Path png = Charts.png(Charts.curves("Held-out accuracy against emulated time: " + fleet + " fleet", "emulated seconds (log scale)", "accuracy %", curves, true),
                    outDir.resolve("time-to-accuracy-" + fleet + ".png"));
            sb.append("![").append(fleet).append("](").append(png.getFileName()).append(")\n\n");
        }
        return sb.toString();
    }

    /** Mean ± sd of a few runs' figures. */
    record Stats(double mean, double sd, int n) {

        static Stats of(List<Double> xs) {
            List<Double> v = xs.stream().filter(Double::isFinite).toList();
            double m = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double var = v.size() < 2 ? 0 : v.stream().mapToDouble(x -> (x - m) * (x - m)).sum() / (v.size() - 1);
            return new Stats(m, Math.sqrt(var), v.size());
        }

        String text(String format) {
            if (n == 0) {
                return "-";
            }
            String m = String.format(Locale.ROOT, format, mean);
            return n < 2 ? m : m + String.format(Locale.ROOT, " ± " + format.replaceAll("[^%.0-9f]", ""), sd);
        }

        /** Seconds to a target over the seeds that reached it. */
        static String reached(List<Double> seconds) {
            Stats s = of(seconds);
            if (s.n == 0) {
                return "-";
            }
            return s.text("%.1f s") + (s.n < seconds.size() ? " (" + s.n + " of " + seconds.size() + ")" : "");
        }
    }
}
