package io.splitfed.runtime.experiment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * SST-2 accuracy of every method under IID and one-label-per-device data, against centralized
 * LoRA, with SplitFrozen's device compute per sample against FedLoRA's.
 */
public final class Sst2AccuracyExperiment implements Experiment {

    static final List<String> METHODS = List.of("centralized", "splitfrozen", "sfl", "fedlora");
    static final List<String> PARTITIONS = List.of("iid", "classes:1");

    @Override
    public String name() {
        return "sst2";
    }

    @Override
    public String description() {
        return "SST-2: splitfrozen, sfl and fedlora vs centralized, IID and one label per device; device compute ratio";
    }

    @Override
    public List<Cell> cells(boolean quick) {
        List<Cell> cells = new ArrayList<>();
        for (String partition : PARTITIONS) {
            for (String method : METHODS) {
                if (method.equals("centralized") && !partition.equals("iid")) {
                    continue; // centralized sees all data whatever the partition
                }
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("mode", method);
                o.put("federation.partition", partition);
                if (quick) {
                    Experiment.quick(o);
                }
                cells.add(new Cell("sst2-" + partition.replace(':', '-') + "-" + method, o, Map.of("method", method, "partition", partition)));
            }
        }
        return cells;
    }

    @Override
    public String report(List<CellResult> results, Path outDir, boolean quick) {
        Map<String, CellResult> byKey = new LinkedHashMap<>();
        for (CellResult r : results) {
            byKey.put(r.label("partition") + "/" + r.label("method"), r);
        }
        CellResult central = byKey.get("iid/centralized");
        StringBuilder sb = new StringBuilder();
        sb.append("| data | ");
        METHODS.forEach(m -> sb.append(m).append(" | "));
        sb.append("\n|---|");
        METHODS.forEach(m -> sb.append("---:|"));
        sb.append('\n');
        for (String p : PARTITIONS) {
            sb.append("| ").append(p.equals("iid") ? "IID" : "one label per device").append(" | ");
            for (String m : METHODS) {
                CellResult r = m.equals("centralized") ? central : byKey.get(p + "/" + m);
                if (r == null) {
                    sb.append("- | ");
                } else if (m.equals("centralized")) {
                    sb.append(String.format(Locale.ROOT, "%.1f | ", 100 * r.accuracy()));
                } else {
                    sb.append(String.format(Locale.ROOT, "%.1f (%+.1f) | ", 100 * r.accuracy(), 100 * (r.accuracy() - central.accuracy())));
                }
            }
            sb.append('\n');
        }
        sb.append("\nAccuracy in %, and points against centralized LoRA in brackets.\n\n");
        sb.append(check("IID: splitfrozen within 2 points of centralized", gap(byKey, "iid/splitfrozen", central) <= 2));
        sb.append(check("IID: sfl within 2 points of centralized", gap(byKey, "iid/sfl", central) <= 2));
        sb.append(check("one label per device: splitfrozen within 3 points of centralized", gap(byKey, "classes:1/splitfrozen", central) <= 3));
        double sf = acc(byKey, "classes:1/splitfrozen");
        sb.append(check(String.format(Locale.ROOT, "one label per device: fedlora falls behind (%.1f points below splitfrozen)", 100 * (sf - acc(byKey, "classes:1/fedlora"))),
                acc(byKey, "classes:1/fedlora") < sf - 0.03));
        sb.append(check(String.format(Locale.ROOT, "one label per device: sfl falls behind (%.1f points below splitfrozen)", 100 * (sf - acc(byKey, "classes:1/sfl"))),
                acc(byKey, "classes:1/sfl") < sf - 0.03));
        CellResult sfIid = byKey.get("iid/splitfrozen");
        CellResult flIid = byKey.get("iid/fedlora");
        if (sfIid != null && flIid != null) {
            double ratio = sfIid.deviceSecondsPerSample() / flIid.deviceSecondsPerSample();
            sb.append(check(String.format(Locale.ROOT, "device compute per sample: splitfrozen %.3f ms vs fedlora %.3f ms, ratio %.3f (target < 0.15; the paper cuts 86.8%%)",
                    1000 * sfIid.deviceSecondsPerSample(), 1000 * flIid.deviceSecondsPerSample(), ratio), ratio < 0.15));
            sb.append(String.format(Locale.ROOT, "  (FLOPs per sample: splitfrozen %.4f GFLOP, fedlora %.4f GFLOP; splitfrozen served %.0f%% of micro-batches from its cache)%n",
                    sfIid.deviceGflopsPerSample(), flIid.deviceGflopsPerSample(), 100 * sfIid.extra().getOrDefault("cachedShare", 0.0)));
        }
        return sb.toString();
    }

    static double acc(Map<String, CellResult> byKey, String key) {
        CellResult r = byKey.get(key);
        return r == null ? Double.NaN : r.accuracy();
    }

    static double gap(Map<String, CellResult> byKey, String key, CellResult central) {
        return central == null ? Double.NaN : Math.abs(100 * (acc(byKey, key) - central.accuracy()));
    }

    static String check(String what, boolean ok) {
        return (ok ? "- [x] " : "- [ ] ") + what + "\n";
    }
}
