package io.splitfed.runtime.report;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.ExactlyOnce;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures of a finished job, in the shape of its metrics JSON: accuracy, loss per step,
 * per-device compute and bytes, per-round summaries, and the pipeline timeline.
 */
public record JobMetrics(
        String mode,
        double accuracy,
        double evalLoss,
        double wallSeconds,
        long samplesTrained,
        List<RoundSummary> rounds,
        List<StepLoss> stepLosses,
        Map<Integer, DeviceTotals> devices,
        Totals totals,
        ExactlyOnce exactlyOnce,
        List<TimelineEvent> timeline) {

    /** One device over the whole job. */
    public record DeviceTotals(int samples, int microBatches, int cachedMicroBatches, double computeSeconds, double flops,
            long bytesUp, long bytesDown, int resent) {

        public double computeSecondsPerSample() {
            return samples == 0 ? 0 : computeSeconds / samples;
        }
    }

    /**
     * Sums over devices and shards. {@code serverGflopsPerSecond} is what the server achieved: its
     * counted FLOPs (forward and the backward through the frozen base, 2x the forward) over its
     * compute seconds.
     */
    public record Totals(double deviceComputeSeconds, double deviceFlops, double serverComputeSeconds, double serverFlops,
            long bytesUp, long bytesDown, int duplicates, int rejected, double deviceSecondsPerSample, double serverGflopsPerSecond) {}

    public static JobMetrics of(JobResult r) {
        Map<Integer, DeviceTotals> devices = new TreeMap<>();
        for (DeviceRoundStats s : r.deviceStats()) {
            devices.merge(s.device(), new DeviceTotals(s.samples(), s.microBatches(), s.cachedMicroBatches(), s.computeSeconds(), s.flops(),
                    s.bytesUp(), s.bytesDown(), s.resent()), JobMetrics::add);
        }
        List<StepLoss> losses = new ArrayList<>();
        List<TimelineEvent> timeline = new ArrayList<>();
        double serverSeconds = 0;
        double serverFlops = 0;
        int duplicates = 0;
        int rejected = 0;
        long serverBytesDown = 0;
        for (ShardRoundReport s : r.shardReports()) {
            losses.addAll(s.losses());
            timeline.addAll(s.timeline());
            serverSeconds += s.trainSeconds();
            serverFlops += s.flops();
            duplicates += s.duplicates();
            rejected += s.rejected().size();
            serverBytesDown += s.bytesDown();
        }
        for (DeviceRoundStats s : r.deviceStats()) {
            losses.addAll(s.localLosses());
            timeline.addAll(s.timeline());
        }
        losses.sort(Comparator.comparingLong(StepLoss::micros));
        timeline.sort(Comparator.comparingLong(TimelineEvent::micros));
        long samples = devices.values().stream().mapToLong(DeviceTotals::samples).sum();
        double devSeconds = devices.values().stream().mapToDouble(DeviceTotals::computeSeconds).sum();
        Totals totals = new Totals(devSeconds, devices.values().stream().mapToDouble(DeviceTotals::flops).sum(), serverSeconds, serverFlops,
                devices.values().stream().mapToLong(DeviceTotals::bytesUp).sum(),
                Math.max(serverBytesDown, devices.values().stream().mapToLong(DeviceTotals::bytesDown).sum()),
                duplicates, rejected, samples == 0 ? 0 : devSeconds / samples, serverSeconds <= 0 ? 0 : serverFlops / serverSeconds / 1e9);
        RoundSummary last = r.rounds().isEmpty() ? null : r.last();
        return new JobMetrics(r.spec().mode().id(), last == null ? Double.NaN : last.accuracy(), last == null ? Double.NaN : last.evalLoss(),
                r.wallSeconds(), samples, r.rounds(), losses, devices, totals, ExactlyOnce.of(r), timeline);
    }

    private static DeviceTotals add(DeviceTotals a, DeviceTotals b) {
        return new DeviceTotals(a.samples + b.samples, a.microBatches + b.microBatches, a.cachedMicroBatches + b.cachedMicroBatches,
                a.computeSeconds + b.computeSeconds, a.flops + b.flops, a.bytesUp + b.bytesUp, a.bytesDown + b.bytesDown, a.resent + b.resent);
    }

    /** JSON-ready view (records serialise as objects). */
    public Map<String, Object> toJson(Map<String, Object> config) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", mode);
        m.put("accuracy", accuracy);
        m.put("eval_loss", evalLoss);
        m.put("wall_seconds", wallSeconds);
        m.put("samples_trained", samplesTrained);
        m.put("totals", totals);
        Map<String, Long> once = new LinkedHashMap<>();
        once.put("answered", exactlyOnce.answered());
        once.put("trained_once", exactlyOnce.trainedOnce());
        once.put("trained_twice", exactlyOnce.trainedTwice());
        m.put("exactly_once", once);
        m.put("devices", devices);
        m.put("rounds", rounds);
        m.put("loss_per_step", stepLosses.stream().map(l -> List.of(l.round(), l.device(), l.seq(), l.loss())).toList());
        m.put("timeline", timeline);
        m.put("config", config);
        return m;
    }
}
