package io.splitfed.runtime.report;

import io.splitfed.actors.job.HostSpeed;
import io.splitfed.actors.job.TrainingMode;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Does the cost model predict this host? The job's compute steps, device and server, modelled as
 * their counted FLOPs over the host's measured speed ({@link HostSpeed}), beside the same steps'
 * measured seconds. A device's FLOPs are forward passes in SplitFrozen, half forward and half
 * backward in SFL (its backward counts as one forward), training steps in FedLoRA and centralized;
 * a shard's are training steps.
 */
public record Calibration(HostSpeed host, double deviceModelled, double deviceMeasured, double serverModelled, double serverMeasured) {

    public static Calibration of(TrainingMode mode, HostSpeed host, JobMetrics.Totals t) {
        double deviceForward = switch (mode) {
            case SPLITFROZEN -> t.deviceFlops();
            case SFL -> t.deviceFlops() / 2;
            case FEDLORA, CENTRALIZED -> 0;
        };
        double deviceModelled = host.seconds(deviceForward, t.deviceFlops() - deviceForward);
        double serverModelled = host.seconds(0, t.serverFlops());
        return new Calibration(host, deviceModelled, t.deviceComputeSeconds(), serverModelled, t.serverComputeSeconds());
    }

    public double modelled() {
        return deviceModelled + serverModelled;
    }

    public double measured() {
        return deviceMeasured + serverMeasured;
    }

    /** The summary's line. */
    public String line() {
        return String.format(Locale.ROOT, "cost model: compute modelled %.1f s (device %.1f, server %.1f) against %.1f s measured (device %.1f, server %.1f): "
                        + "%.2f x  |  this host %.2f GFLOP/s forward, %.2f GFLOP/s training (probe %.1f s)%n",
                modelled(), deviceModelled, serverModelled, measured(), deviceMeasured, serverMeasured, modelled() / measured(),
                host.forwardFlopsPerSecond() / 1e9, host.trainFlopsPerSecond() / 1e9, host.probeSeconds());
    }

    /** {@code metrics.json}'s {@code emulated.calibration}. */
    public Map<String, Object> toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("modelled_seconds", modelled());
        out.put("measured_seconds", measured());
        out.put("ratio", modelled() / measured());
        out.put("device", Map.of("modelled_seconds", deviceModelled, "measured_seconds", deviceMeasured));
        out.put("server", Map.of("modelled_seconds", serverModelled, "measured_seconds", serverMeasured));
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("forward_gflops", host.forwardFlopsPerSecond() / 1e9);
        h.put("train_gflops", host.trainFlopsPerSecond() / 1e9);
        h.put("probe_seconds", host.probeSeconds());
        out.put("host", h);
        return out;
    }
}
