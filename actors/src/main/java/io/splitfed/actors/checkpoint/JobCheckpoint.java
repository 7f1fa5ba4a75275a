package io.splitfed.actors.checkpoint;

import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.server.ShardSnapshot;
import io.splitfed.actors.wire.WireMessage;
import io.splitfed.model.lora.LoraAdapter;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A job at a round boundary: enough to go on from the next round as if it had never stopped.
 *
 * @param roundsDone rounds closed and aggregated; the job resumes at this round
 * @param globalDevice the aggregated device adapter (null when devices train nothing)
 * @param globalServer the aggregated server adapter (null outside the split modes)
 * @param shards each shard's adapters, optimizer moments and what it trained, by shard
 * @param devices each device's data cursor, sequence number and optimizer moments, by device
 * @param rounds the closed rounds' summaries, so reports cover the whole job
 * @param gone devices that had stopped
 * @param quarantined devices the coordinator had quarantined, with the round their ban ends
 */
public record JobCheckpoint(
        int roundsDone,
        LoraAdapter globalDevice,
        LoraAdapter globalServer,
        Map<Integer, ShardSnapshot> shards,
        Map<Integer, DeviceSnapshot> devices,
        List<RoundSummary> rounds,
        Set<Integer> gone,
        Map<Integer, Integer> quarantined) implements WireMessage {}
