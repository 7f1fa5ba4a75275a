package io.splitfed.actors.coordinator;

import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.lora.LoraAdapter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.LongSupplier;

/** What the job has done so far: the rounds' summaries and the devices' and shards' reports, for its result. */
final class JobHistory {

    private final List<RoundSummary> summaries = new ArrayList<>();
    private final List<DeviceRoundStats> deviceStats = new ArrayList<>();
    private final List<ShardRoundReport> shardReports = new ArrayList<>();
    private final LongSupplier clock;
    private final long start;

    /** Goes on from the {@code resumed} rounds, timed by {@code clock} (nanoseconds). */
    JobHistory(List<RoundSummary> resumed, LongSupplier clock) {
        this.clock = clock;
        this.start = clock.getAsLong();
        summaries.addAll(resumed);
    }

    /** A round closed: its summary, and what its devices and shards reported. */
    void closed(RoundSummary summary, Collection<DeviceRoundStats> devices, List<ServerShard.Closed> shards) {
        summaries.add(summary);
        deviceStats.addAll(devices);
        shards.forEach(sc -> shardReports.add(sc.report()));
    }

    /** A late device's result for an earlier round. */
    void late(DeviceRoundStats stats) {
        deviceStats.add(stats);
    }

    List<RoundSummary> summaries() {
        return List.copyOf(summaries);
    }

    JobResult result(JobSpec spec, LoraAdapter globalDevice, LoraAdapter globalServer) {
        return new JobResult(spec, List.copyOf(summaries), List.copyOf(deviceStats), List.copyOf(shardReports), globalDevice, globalServer,
                (clock.getAsLong() - start) / 1e9);
    }
}
