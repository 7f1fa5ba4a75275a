package io.splitfed.actors.server;

import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.train.OptimizerState;

import java.util.List;
import java.util.Map;

/**
 * What a shard hands to its next incarnation when Cluster Sharding moves it: adapters and
 * optimizer moments of every replica, what each device had trained (so nothing is trained twice),
 * the round's figures, and the queued micro-batches with the rows of each already trained (steps
 * mix rows of several micro-batches, so one may be half trained when the shard moves).
 */
public record ShardSnapshot(
        int shard,
        int round,
        boolean accepting,
        Map<Integer, LoraAdapter> adapters,
        Map<Integer, OptimizerState> optimizers,
        LoraAdapter global,
        Map<Integer, long[]> trainedSeqs,
        Map<Integer, Integer> trainedSamples,
        Map<Integer, Integer> replicaSamples,
        int duplicates,
        List<String> rejected,
        List<StepLoss> losses,
        List<TimelineEvent> timeline,
        double trainSeconds,
        double flops,
        long bytesDown,
        long stepsTotal,
        ServerShard.CloseRound pendingClose,
        List<ServerShard.Forward> queued,
        List<boolean[]> trainedRows,
        List<ServerShard.Forward> early) {}
