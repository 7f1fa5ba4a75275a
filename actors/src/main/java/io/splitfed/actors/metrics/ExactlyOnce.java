package io.splitfed.actors.metrics;

import io.splitfed.actors.coordinator.JobResult;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Whether every micro-batch a device was answered for was trained exactly once, counted from what
 * the job's reports say happened, micro-batch by micro-batch: the devices' "answered" events
 * against the server workers' "trained" events (or, where devices train locally, their own steps).
 *
 * @param answered micro-batches the devices were answered for, as their round reports say (a
 *     killed device's unreported round and a round its lost shard made it run again are not in them)
 * @param trainedOnce of those, the ones trained exactly once
 * @param trainedTwice micro-batches trained more than once
 */
public record ExactlyOnce(long answered, long trainedOnce, long trainedTwice) {

    public boolean holds() {
        return answered == trainedOnce && trainedTwice == 0;
    }

    public static ExactlyOnce of(JobResult r) {
        Map<String, Integer> trained = new HashMap<>();
        for (ShardRoundReport s : r.shardReports()) {
            for (TimelineEvent e : s.timeline()) {
                if (e.stage() == TimelineEvent.Stage.TRAINED) {
                    trained.merge(e.device() + "/" + e.seq(), 1, Integer::sum);
                }
            }
        }
        boolean local = !r.spec().mode().isSplit();
        Set<String> answered = new HashSet<>();
        for (DeviceRoundStats d : r.deviceStats()) {
            for (TimelineEvent e : d.timeline()) {
                if (e.stage() == TimelineEvent.Stage.ANSWERED) {
                    answered.add(e.device() + "/" + e.seq());
                } else if (local && e.stage() == TimelineEvent.Stage.COMPUTED) {
                    trained.merge(e.device() + "/" + e.seq(), 1, Integer::sum); // a local step
                }
            }
        }
        long once = answered.stream().filter(k -> trained.getOrDefault(k, 0) == 1).count();
        long twice = trained.values().stream().filter(n -> n > 1).count();
        return new ExactlyOnce(answered.size(), once, twice);
    }
}
