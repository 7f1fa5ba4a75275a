package io.splitfed.runtime.bench;

import io.splitfed.model.io.AtomicFiles;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;

/** Prints benchmark figures side by side and writes them as BENCHMARKS.md. */
public final class BenchReport {

    private BenchReport() {}

    public static String markdown(List<Comparison> rows, String command, String machine) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Benchmarks\n\n");
        sb.append("Made by `").append(command).append("` on ").append(LocalDate.now()).append(", ").append(machine).append(".\n");
        sb.append("Every ratio divides a figure by its reference, both measured in the same run.\n\n");
        String suite = null;
        for (Comparison c : rows) {
            if (!c.suite().equals(suite)) {
                suite = c.suite();
                sb.append("\n## ").append(suite).append("\n\n");
                sb.append("| figure | value | reference | reference value | ratio |\n|---|---:|---|---:|---:|\n");
            }
            sb.append("| ").append(c.figure()).append(" | ").append(fmt(c.value())).append(' ').append(c.unit()).append(" | ")
                    .append(c.reference()).append(" | ")
                    .append(c.referenceValue() == 0 ? "" : fmt(c.referenceValue()) + " " + c.referenceUnit()).append(" | ")
                    .append(c.referenceValue() == 0 ? "" : String.format(Locale.ROOT, "%.3f", c.ratio())).append(" |\n");
        }
        return sb.toString();
    }

    public static String table(List<Comparison> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-10s %-44s %16s   %-30s %16s %8s%n", "suite", "figure", "value", "reference", "ref value", "ratio"));
        for (Comparison c : rows) {
            sb.append(String.format(Locale.ROOT, "%-10s %-44s %16s   %-30s %16s %8s%n", c.suite(), c.figure(), fmt(c.value()) + " " + c.unit(),
                    c.reference(), c.referenceValue() == 0 ? "" : fmt(c.referenceValue()),
                    c.referenceValue() == 0 ? "" : String.format(Locale.ROOT, "%.3f", c.ratio())));
        }
        return sb.toString();
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }

    public static void write(Path file, String markdown) {
        AtomicFiles.writeString(file, markdown);
    }
}
