package io.splitfed.runtime.report;

import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.metrics.RoundSummary;

import java.util.Locale;

/** The one-screen account of a finished job. */
public final class Summary {

    private Summary() {}

    public static String render(JobSpec spec, JobMetrics m, String outputs) {
        StringBuilder sb = new StringBuilder();
        var f = spec.federation();
        sb.append(String.format(Locale.ROOT, "%n== splitfed %s: %s on %s ==%n", m.mode(), spec.model().path().getFileName(), spec.data().train()));
        sb.append(String.format(Locale.ROOT, "devices %d (%s), split points %s, rounds %d, epochs %.2f, micro-batch %d, window %d, LoRA r%d on %s%n",
                f.devices(), f.partition(), spec.mode().isSplit() ? java.util.Arrays.toString(f.splitPoints()) : "-", f.rounds(), f.epochs(),
                spec.training().microBatch(), spec.pipeline().window(), spec.training().lora().rank(), spec.training().lora().targets()));
        sb.append(header());
        for (RoundSummary r : m.rounds()) {
            sb.append(line(r));
        }
        var t = m.totals();
        sb.append(String.format(Locale.ROOT, "final accuracy %.4f  |  wall time %.1f s  |  %d samples trained (%.0f samples/s)%n",
                m.accuracy(), m.wallSeconds(), m.samplesTrained(), m.samplesTrained() / Math.max(m.wallSeconds(), 1e-9)));
        sb.append(String.format(Locale.ROOT, "device compute %.1f s (%.3f ms/sample, %.2f GFLOP)  |  server compute %.1f s (%.2f GFLOP, %.1f GFLOP/s)%n",
                t.deviceComputeSeconds(), 1000 * t.deviceSecondsPerSample(), t.deviceFlops() / 1e9, t.serverComputeSeconds(), t.serverFlops() / 1e9,
                t.serverGflopsPerSecond()));
        long cached = m.devices().values().stream().mapToLong(JobMetrics.DeviceTotals::cachedMicroBatches).sum();
        long mbs = m.devices().values().stream().mapToLong(JobMetrics.DeviceTotals::microBatches).sum();
        sb.append(String.format(Locale.ROOT, "bytes up %s, down %s  |  cached micro-batches %d of %d  |  duplicates %d, rejected %d%n",
                bytes(t.bytesUp()), bytes(t.bytesDown()), cached, mbs, t.duplicates(), t.rejected()));
        var once = m.exactlyOnce();
        sb.append(String.format(Locale.ROOT, "exactly once: %d micro-batches answered, %d trained once, %d trained twice%s%n", once.answered(),
                once.trainedOnce(), once.trainedTwice(), once.holds() ? "" : "  (MISMATCH)"));
        sb.append(outputs);
        return sb.toString();
    }

    /** The heading of the per-round table. */
    public static String header() {
        return String.format(Locale.ROOT, "%6s %9s %9s %10s %9s %8s  %s%n", "round", "accuracy", "eval loss", "train loss", "samples", "seconds", "notes");
    }

    /** One round's row: as the summary shows it, and as a job host prints it when the round closes. */
    public static String line(RoundSummary r) {
        String notes = (r.closedByDeadline() ? "deadline " : "") + (r.late().isEmpty() ? "" : "late " + r.late() + " ")
                + (r.gone().isEmpty() ? "" : "gone " + r.gone());
        return String.format(Locale.ROOT, "%6d %9.4f %9.4f %10.4f %9d %8.1f  %s%n", r.round() + 1, r.accuracy(), r.evalLoss(), r.trainLoss(),
                r.samples(), r.seconds(), notes);
    }

    public static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        String[] u = {"KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int i = -1;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, u[i]);
    }
}
