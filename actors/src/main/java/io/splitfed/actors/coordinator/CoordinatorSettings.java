package io.splitfed.actors.coordinator;

import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.plan.RoundPlanner;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.train.Evaluation;

import org.apache.pekko.actor.typed.ActorRef;

import java.util.List;
import java.util.Map;

/**
 * What a round coordinator runs.
 *
 * @param stepsPerRound micro-batches each device runs in a round
 * @param shardOf which shard serves each device
 * @param evaluator scores the global adapters on the held-out set; runs on the tensor thread
 * @param listener gets {@link JobEvent}s; may be null
 * @param layers the model's blocks (a device outside the split modes runs them all)
 * @param planner plans each round; null runs the job's settings every round
 * @param resume the checkpoint to go on from; null starts at round 0
 */
public record CoordinatorSettings(
        JobSpec spec,
        Map<Integer, ActorRef<DeviceActor.Command>> devices,
        List<ActorRef<ServerShard.Command>> shards,
        Map<Integer, Integer> shardOf,
        ActorRef<Aggregator.Command> aggregator,
        Map<Integer, Integer> stepsPerRound,
        LoraAdapter initialDeviceAdapter,
        LoraAdapter initialServerAdapter,
        Evaluator evaluator,
        ActorRef<JobEvent> listener,
        ActorRef<JobResult> replyTo,
        int layers,
        RoundPlanner planner,
        JobCheckpoint resume) {

    /** Scores adapters (either may be null) on held-out data. Tensor thread only. */
    @FunctionalInterface
    public interface Evaluator {
        Evaluation.Result evaluate(LoraAdapter deviceSide, LoraAdapter serverSide);
    }
}
