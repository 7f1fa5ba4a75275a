package io.splitfed.actors.coordinator;

import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.wire.WireMessage;
import io.splitfed.model.lora.LoraAdapter;

import java.util.List;

/**
 * What a finished job leaves: per-round summaries, what every device and shard did, and the
 * final adapters (device side is null in SplitFrozen; server side is null in FedLoRA).
 */
public record JobResult(
        JobSpec spec,
        List<RoundSummary> rounds,
        List<DeviceRoundStats> deviceStats,
        List<ShardRoundReport> shardReports,
        LoraAdapter deviceAdapter,
        LoraAdapter serverAdapter,
        double wallSeconds) implements WireMessage {

    /** The same result, timed at {@code seconds}: the host's wall time of a job whose clock was a fleet's. */
    public JobResult withWallSeconds(double seconds) {
        return new JobResult(spec, rounds, deviceStats, shardReports, deviceAdapter, serverAdapter, seconds);
    }

    public RoundSummary last() {
        return rounds.get(rounds.size() - 1);
    }

    public double finalAccuracy() {
        return rounds.isEmpty() ? Double.NaN : last().accuracy();
    }

    /** The trained adapters of both sides as one (device blocks and server blocks), or the side there is. */
    public LoraAdapter wholeAdapter() {
        LoraAdapter d = deviceAdapter();
        LoraAdapter s = serverAdapter();
        return d == null ? s : s == null ? d : LoraAdapter.union(d, s);
    }
}
