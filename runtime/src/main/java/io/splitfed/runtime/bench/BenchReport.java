package io.splitfed.runtime.bench;

import io.splitfed.model.io.AtomicFiles;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Prints benchmark figures side by side and writes them as BENCHMARKS.md. */
public final class BenchReport {

    private BenchReport() {}

    private static final String HEADER = "# Benchmarks\n\nMade by `splitfed bench`. Every ratio divides a figure by its reference, both measured in the same run"
            + " (each suite says which run).\n";

    public static String markdown(List<Comparison> rows, String command, String machine) {
        StringBuilder sb = new StringBuilder(HEADER);
        String suite = null;
        for (Comparison c : rows) {
            if (!c.suite().equals(suite)) {
                suite = c.suite();
                sb.append("\n## ").append(suite).append("\n\n");
                sb.append("Measured by `").append(command).append("` on ").append(LocalDate.now()).append(", ").append(machine).append(".\n\n");
                sb.append("| figure | value | reference | reference value | ratio |\n|---|---:|---|---:|---:|\n");
            }
            sb.append("| ").append(c.figure()).append(" | ").append(fmt(c.value())).append(' ').append(c.unit()).append(" | ")
                    .append(c.reference()).append(" | ")
                    .append(c.referenceValue() == 0 ? "" : fmt(c.referenceValue()) + " " + c.referenceUnit()).append(" | ")
                    .append(c.referenceValue() == 0 ? "" : String.format(Locale.ROOT, "%.3f", c.ratio())).append(" |\n");
        }
        return sb.toString();
    }

    /**
     * {@code fresh}'s suites over {@code existing}'s: a run of some suites replaces their sections
     * and keeps the others, in {@code order}. Sections of a file written before suites carried
     * their own "Measured by" line get the old file's "Made by" line.
     */
    public static String merge(String existing, String fresh, List<String> order) {
        Map<String, String> old = sections(existing);
        Matcher made = Pattern.compile("Made by (`[^`]*` on [^\\n]*?)\\.\\n").matcher(existing);
        String oldRun = made.find() ? made.group(1) : null;
        Map<String, String> now = sections(fresh);
        StringBuilder sb = new StringBuilder(HEADER);
        for (String suite : order) {
            String body = now.containsKey(suite) ? now.get(suite) : old.get(suite);
            if (body == null) {
                continue;
            }
            if (!now.containsKey(suite) && !body.contains("Measured by") && oldRun != null) {
                body = "\nMeasured by " + oldRun + ".\n" + body;
            }
            sb.append("\n## ").append(suite).append('\n').append(body.stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    private static Map<String, String> sections(String markdown) {
        Map<String, String> out = new LinkedHashMap<>();
        String[] parts = markdown.split("\n## ");
        for (int i = 1; i < parts.length; i++) {
            int nl = parts[i].indexOf('\n');
            out.put(parts[i].substring(0, nl).trim(), parts[i].substring(nl + 1));
        }
        return out;
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
