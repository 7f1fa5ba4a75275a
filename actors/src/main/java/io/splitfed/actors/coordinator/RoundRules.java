package io.splitfed.actors.coordinator;

import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.plan.RoundPlanner;
import io.splitfed.model.lora.LoraAdapter;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the {@link RoundPolicy} knows of its job: devices and shards by number, never by actor.
 *
 * @param devices every device of the job, in the job's order (the seeded sample depends on it)
 * @param shardOf which shard serves each device
 * @param shards how many server shards the job has (0 outside the split modes)
 * @param stepsPerRound micro-batches each device runs in a round, at the job's micro-batch size
 * @param layers the model's blocks
 * @param planner plans each round; null runs the job's settings every round
 * @param resume the checkpoint to go on from; null starts at round 0
 * @param closeTimeout how long a closing round waits for the shards' reports
 * @param fleet on a fleet's time, the fleet, whose devices may be away for a round; else null
 */
record RoundRules(
        JobSpec spec,
        Set<Integer> devices,
        Map<Integer, Integer> shardOf,
        int shards,
        Map<Integer, Integer> stepsPerRound,
        LoraAdapter initialDeviceAdapter,
        LoraAdapter initialServerAdapter,
        int layers,
        RoundPlanner planner,
        JobCheckpoint resume,
        Duration closeTimeout,
        Fleet fleet) {

    /** The rules of the job {@code settings} describes. */
    static RoundRules of(CoordinatorSettings settings, Duration closeTimeout, Fleet fleet) {
        return new RoundRules(settings.spec(), java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(settings.devices().keySet())), settings.shardOf(), settings.shards().size(),
                settings.stepsPerRound(), settings.initialDeviceAdapter(), settings.initialServerAdapter(), settings.layers(), settings.planner(),
                settings.resume(), closeTimeout, fleet);
    }

    int rounds() {
        return spec.federation().rounds();
    }

    /** Every shard's number. */
    List<Integer> allShards() {
        return java.util.stream.IntStream.range(0, shards).boxed().toList();
    }
}
