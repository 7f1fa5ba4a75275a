package io.splitfed.runtime.experiment;

import io.splitfed.model.privacy.CutNoise;
import io.splitfed.model.privacy.Recovery;
import io.splitfed.runtime.job.JobRunner;
import io.splitfed.runtime.privacy.CutAttack;
import io.splitfed.runtime.privacy.CutAudit;
import io.splitfed.runtime.report.plot.Charts;

import com.typesafe.config.Config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The privacy–utility front of the cut: the main job (SplitFrozen, SST-2) trained under each cut and
 * defence, then attacked as a curious server would ({@link CutAudit}): token recovery, ROUGE-L and
 * exact sentences of the strongest attack, beside held-out accuracy and the device's compute per
 * sample. Names the setting it would recommend: the most accurate one that keeps the attack to at
 * most {@link #TARGET} of real tokens.
 */
public final class PrivacyExperiment implements Experiment {

    /** The share of real tokens a recommended setting may let the attack read. */
    static final double TARGET = 0.20;
    /** Points of accuracy a recommended setting may cost against no defence. */
    static final double BUDGET = 3.0;
    /** Each token's vector is clipped to this norm before noise: its typical norm at the default cut. */
    static final double CLIP = 12;

    /** One setting: blocks on the device, noise (a multiple of the clip; 0 none) and uplink bits. */
    record Setting(int cut, double sigma, int bits) {
        String id() {
            return String.format(Locale.ROOT, "privacy-cut%d-%s-%db", cut, sigma == 0 ? "none" : "s" + sigma, bits);
        }

        String defence() {
            return sigma == 0 ? "none" : String.format(Locale.ROOT, "clip %.0f, noise %.1f x clip", CLIP, sigma);
        }
    }

    /** The attacker's public sentences and the held-out sentences attacked, full and quick. */
    private final int[] full;
    private final int[] quick;

    /** The experiment as `splitfed experiment privacy` runs it: 3,000 public sentences against 300 held-out ones (quick: 1,000 and 100). */
    public PrivacyExperiment() {
        this(new int[] {3000, 300}, new int[] {1000, 100});
    }

    /** With other attack sizes ({@code {public sentences, victims}}), for tests. */
    PrivacyExperiment(int[] full, int[] quick) {
        this.full = full.clone();
        this.quick = quick.clone();
    }

    static final List<Setting> SETTINGS = List.of(
            new Setting(1, 0, 32), new Setting(1, 0, 8), new Setting(1, 0, 4),
            new Setting(1, 0.2, 32), new Setting(1, 0.4, 32));

    @Override
    public String name() {
        return "privacy";
    }

    @Override
    public String description() {
        return "SST-2, SplitFrozen: what a curious server reads at the cut (token recovery, ROUGE-L) against held-out accuracy and device compute, "
                + "per noise level and uplink bits at the default cut";
    }

    @Override
    public List<Cell> cells(boolean quick) {
        List<Cell> cells = new ArrayList<>();
        for (Setting s : SETTINGS) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("mode", "splitfrozen");
            o.put("federation.split-points", Integer.toString(s.cut()));
            o.put("privacy.clip", s.sigma() == 0 ? 0.0 : CLIP);
            o.put("privacy.noise-sigma", s.sigma());
            o.put("pipeline.uplink-bits", s.bits());
            if (quick) {
                Experiment.quick(o);
            }
            cells.add(new Cell(s.id(), o, Map.of("cut", Integer.toString(s.cut()), "sigma", Double.toString(s.sigma()), "bits", Integer.toString(s.bits()))));
        }
        return cells;
    }

    /** The attack, once the cell's job is trained, on its held-out examples. */
    @Override
    public JobRunner.AfterJob afterJob(Cell cell, boolean quick, Config settings) {
        Path publicText = CutAudit.defaultPublicText(settings.getString("splitfed.data-root"));
        int[] sizes = quick ? this.quick : full;
        return (job, result) -> {
            CutAudit audit = CutAudit.run(job, publicText, sizes[0], sizes[1]);
            CutAttack.Result a = audit.attack();
            Recovery r = a.recovery();
            Map<String, Double> scores = new LinkedHashMap<>();
            scores.put("tokenRecovery", r.tokenRate());
            scores.put("rougeL", r.rougeL());
            scores.put("exactSentences", r.exactSentenceRate());
            scores.put("priorRecovery", r.priorRate());
            scores.put("attackedTokens", (double) r.tokens());
            scores.put("attackSeconds", audit.seconds());
            System.err.printf(Locale.ROOT, "experiment: %s: the attack read %s%n", cell.id(), r);
            return scores;
        };
    }

    private static Setting setting(CellResult r) {
        return new Setting(Integer.parseInt(r.label("cut")), Double.parseDouble(r.label("sigma")), Integer.parseInt(r.label("bits")));
    }

    @Override
    public String report(List<CellResult> results, Path outDir, boolean quick) {
        CellResult plain = results.stream().filter(r -> setting(r).equals(SETTINGS.get(0))).findFirst().orElse(null);
        StringBuilder sb = new StringBuilder();
        int[] sizes = quick ? this.quick : full;
        sb.append(String.format(Locale.ROOT, "Each row trains the main job under one setting, then runs `splitfed privacy attack`'s attack on it: fitted on "
                + "%,d of the attacker's own MNLI sentences sent through the same cut and defence, scored on the real tokens of %,d held-out "
                + "sentences.", sizes[0], sizes[1])).append(" Label AUC is 1.00 in every row: in this shape the server ")
                .append("computes the loss, so it reads every label. Device compute is the FLOPs of the device's blocks per trained sample.\n\n");
        sb.append("| cut (blocks on device) | defence | uplink bits | token recovery | ROUGE-L | exact sentences | label AUC | accuracy | vs none "
                + "| device GFLOP / sample | ε at δ 1e-5 (one token) |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        Map<String, List<Charts.Point>> series = new LinkedHashMap<>();
        CellResult best = null;
        CellResult nearest = null;
        for (CellResult r : results) {
            Setting s = setting(r);
            double rec = r.extra("tokenRecovery");
            double delta = plain == null ? Double.NaN : 100 * (r.accuracy() - plain.accuracy());
            double eps = s.sigma() == 0 ? Double.POSITIVE_INFINITY : new CutNoise(CLIP, s.sigma()).epsilon(1e-5);
            sb.append(String.format(Locale.ROOT, "| %d | %s | %d | %.1f%% | %.3f | %.1f%% | 1.00 | %.1f%% | %+.1f | %.3f | %s |%n", s.cut(), s.defence(), s.bits(),
                    100 * rec, r.extra("rougeL"), 100 * r.extra("exactSentences"), 100 * r.accuracy(), delta, r.deviceGflopsPerSample(),
                    Double.isInfinite(eps) ? "∞" : String.format(Locale.ROOT, "%.1f", eps)));
            series.computeIfAbsent("cut after " + s.cut() + (s.cut() == 1 ? " block" : " blocks"), k -> new ArrayList<>())
                    .add(new Charts.Point(100 * rec, 100 * r.accuracy(), s.sigma() == 0 ? (s.bits() == 32 ? "none" : s.bits() + "-bit") : "σ " + s.sigma()));
            if (rec <= TARGET && (best == null || r.accuracy() > best.accuracy())) {
                best = r;
            }
            if (nearest == null || rec < nearest.extra("tokenRecovery")) {
                nearest = r;
            }
        }
        double prior = plain == null ? Double.NaN : plain.extra("priorRecovery");
        sb.append(String.format(Locale.ROOT, "%nGuessing the attacker's most common token everywhere reads %.1f%% of the tokens. ε is the Gaussian mechanism's "
                + "bound for one release of one token's vector; it says nothing about a sentence, whose tokens are released together.%n%n", 100 * prior));
        Path plot = Charts.png(Charts.scatter("Privacy against utility at the cut", "tokens the server's attack reads (%)", "held-out accuracy (%)", series),
                outDir.resolve("figures").resolve("privacy-front.png"));
        sb.append("![privacy–utility front](").append(outDir.relativize(plot)).append(")\n\n");
        if (best != null) {
            double cost = plain == null ? Double.NaN : 100 * (plain.accuracy() - best.accuracy());
            Setting s = setting(best);
            sb.append(String.format(Locale.ROOT, "**Recommended:** cut after %d, %s, %d-bit uplink: the attack reads %.1f%% of tokens, at %.1f%% accuracy (%.1f points "
                    + "below no defence).%n%n", s.cut(), s.defence(), s.bits(), 100 * best.extra("tokenRecovery"), 100 * best.accuracy(), cost));
            sb.append(Sst2AccuracyExperiment.check(String.format(Locale.ROOT, "a setting holds the attack to at most %.0f%% within %.0f points of accuracy "
                    + "(%.1f points)", 100 * TARGET, BUDGET, cost), cost <= BUDGET));
        } else if (nearest != null) {
            Setting s = setting(nearest);
            sb.append(String.format(Locale.ROOT, "No setting holds the attack to %.0f%%. The nearest, cut after %d, %s, lets it read %.1f%% at %.1f%% accuracy.%n",
                    100 * TARGET, s.cut(), s.defence(), 100 * nearest.extra("tokenRecovery"), 100 * nearest.accuracy()));
        }
        return sb.toString();
    }
}
