package io.splitfed.actors.plan;

import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.ShardRoundReport;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Decides each round's split points, micro-batch sizes, bit-widths and link rates. The coordinator
 * calls it when a round starts (on its own thread, so it must be quick) and applies the result;
 * embedders may supply their own.
 */
public interface RoundPlanner {

    /** The plan for {@code round}'s sampled devices, given the latest profiles (some may be missing). */
    RoundPlan plan(int round, List<Integer> sampled, Map<Integer, DeviceProfile> profiles);

    /** What the last round measured, to refine the next plans. */
    default void observe(int round, Collection<DeviceRoundStats> devices, Collection<ShardRoundReport> shards) {}
}
