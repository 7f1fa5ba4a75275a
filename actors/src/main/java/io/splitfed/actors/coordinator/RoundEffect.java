package io.splitfed.actors.coordinator;

import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.plan.DevicePlan;
import io.splitfed.model.lora.LoraAdapter;

import java.time.Duration;
import java.util.List;

/**
 * What the {@link RoundPolicy} decides and the {@link RoundCycle} shell carries out: messages to
 * devices and shards (by number; the shell knows their actors), timers, and the job's events.
 */
sealed interface RoundEffect {

    /** The coordinator's timers: one of each at a time. */
    enum Timer { DEADLINE, CLOSE, WAIT }

    /** Round {@code round} opened with {@code microBatches} to train: every shard and the progress view hear of it. */
    record Opened(int round, long microBatches) implements RoundEffect {}

    /** Device {@code device} runs {@code steps} micro-batches of {@code round} from {@code global}, as {@code plan} says. */
    record Start(int device, int round, int steps, LoraAdapter global, DevicePlan plan) implements RoundEffect {}

    /** Device {@code device} stops its work on {@code round}. */
    record Abort(int device, int round) implements RoundEffect {}

    /** Device {@code device} runs {@code round} again from its start, on its shard's new worker; {@code global} null keeps its own adapter; {@code evenIfDone}: also when it had finished. */
    record Rewind(int device, int round, LoraAdapter global, boolean evenIfDone) implements RoundEffect {}

    /** Shard {@code shard} (back from the start of the round) is told that {@code round} runs. */
    record ShardOpen(int shard, int round) implements RoundEffect {}

    /** The round is closing: the progress view hears of it. */
    record Closing(int round) implements RoundEffect {}

    /** {@code shards} report on {@code round}. */
    record CloseShards(int round, List<Integer> shards) implements RoundEffect {}

    /** {@code shards} load the aggregated server adapter. */
    record LoadServer(List<Integer> shards, int round, LoraAdapter adapter) implements RoundEffect {}

    /** The scorer aggregates and evaluates. */
    record Score(RoundScorer.Score score) implements RoundEffect {}

    /** The checkpoint collector gathers the devices' and shards' snapshots onto {@code base}. */
    record Checkpoint(JobCheckpoint base) implements RoundEffect {}

    /** {@code timer} fires for {@code round} after {@code after}, replacing one set before. */
    record Arm(Timer timer, int round, Duration after) implements RoundEffect {}

    record Disarm(Timer timer) implements RoundEffect {}

    /** The job's listener hears {@code event}. */
    record Emit(JobEvent event) implements RoundEffect {}

    /** The job is over: its result goes to whoever started it, and the coordinator stops. */
    record Finish(JobResult result) implements RoundEffect {}
}
