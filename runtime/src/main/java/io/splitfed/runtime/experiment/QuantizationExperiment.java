package io.splitfed.runtime.experiment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Activations quantized on the wire: bytes per sample and SST-2 accuracy of SplitFrozen at 32,
 * 16 (fp16), 8 and 4 bits (integer, per-token scales), all else equal. The server decodes the
 * payload before training, so only the values' precision changes.
 */
public final class QuantizationExperiment implements Experiment {

    static final List<Integer> BITS = List.of(32, 16, 8, 4);

    @Override
    public String name() {
        return "quantization";
    }

    @Override
    public String description() {
        return "SST-2, SplitFrozen: bytes on the wire per sample and accuracy at 32, 16, 8 and 4 bits";
    }

    @Override
    public List<Cell> cells(boolean quick) {
        List<Cell> cells = new ArrayList<>();
        for (int bits : BITS) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("mode", "splitfrozen");
            o.put("pipeline.uplink-bits", bits);
            if (quick) {
                Experiment.quick(o);
            }
            cells.add(new Cell("quant-splitfrozen-" + bits, o, Map.of("bits", Integer.toString(bits))));
        }
        return cells;
    }

    @Override
    public String report(List<CellResult> results, Path outDir, boolean quick) {
        Map<String, CellResult> byBits = new LinkedHashMap<>();
        results.forEach(r -> byBits.put(r.label("bits"), r));
        CellResult fp32 = byBits.get("32");
        StringBuilder sb = new StringBuilder("| bits on the wire | bytes up per sample | vs fp32 | accuracy | vs fp32 |\n|---|---:|---:|---:|---:|\n");
        for (int bits : BITS) {
            CellResult r = byBits.get(Integer.toString(bits));
            if (r == null) {
                continue;
            }
            double perSample = (double) r.bytesUp() / Math.max(1, r.samples());
            double ref = fp32 == null ? Double.NaN : (double) fp32.bytesUp() / Math.max(1, fp32.samples());
            sb.append(String.format(Locale.ROOT, "| %s | %,.0f | %.3f | %.1f | %+.1f |%n", bits == 16 ? "16 (fp16)" : bits == 32 ? "32 (fp32)" : bits + " (int, per-token scales)",
                    perSample, perSample / ref, 100 * r.accuracy(), fp32 == null ? Double.NaN : 100 * (r.accuracy() - fp32.accuracy())));
        }
        sb.append("\nBytes are the devices' uplink totals (activations with their scales and the micro-batch metadata) over samples trained.\n\n");
        CellResult eight = byBits.get("8");
        if (eight != null && fp32 != null) {
            double gap = 100 * Math.abs(eight.accuracy() - fp32.accuracy());
            sb.append(Sst2AccuracyExperiment.check(String.format(Locale.ROOT, "8-bit within 0.5 points of fp32 (%.1f points)", gap), gap <= 0.5));
        }
        return sb.toString();
    }
}
