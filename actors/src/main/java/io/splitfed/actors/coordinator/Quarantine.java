package io.splitfed.actors.coordinator;

import io.splitfed.actors.job.JobSpec;

import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Who sits out, and until when. A device with {@code quarantine-after} refused messages or updates
 * in a round is quarantined; one late or gone {@code fail-limit} rounds in a row is benched. Either
 * way it sits out {@code ban-rounds}, twice as long at each repeat (exponential backoff), and is
 * then tried again. The coordinator's bookkeeping, kept apart from its messages.
 */
final class Quarantine {

    private final JobSpec.Robustness rules;
    private final Logger log;
    /** The first round each benched device may be sampled again. */
    private final Map<Integer, Integer> until = new TreeMap<>();
    private final Map<Integer, Integer> bans = new HashMap<>();
    private final Map<Integer, Integer> failedInARow = new HashMap<>();
    private final Map<Integer, Integer> strikes = new TreeMap<>();

    Quarantine(JobSpec.Robustness rules, Logger log, Map<Integer, Integer> restored) {
        this.rules = rules;
        this.log = log;
        until.putAll(restored);
    }

    /** A refused message or update from {@code device} this round. */
    void strike(int device) {
        strikes.merge(device, 1, Integer::sum);
    }

    void strikes(Map<Integer, Integer> more) {
        more.forEach((d, n) -> strikes.merge(d, n, Integer::sum));
    }

    boolean sitsOut(int device, int round) {
        return until.getOrDefault(device, 0) > round;
    }

    /**
     * Ends {@code round}: quarantines and benches as its strikes and its late and gone devices say;
     * returns the devices sitting out the next round.
     */
    List<Integer> endRound(int round, Collection<Integer> known, Collection<Integer> failed, Collection<Integer> finished) {
        strikes.forEach((d, n) -> {
            if (n >= rules.quarantineAfter() && known.contains(d)) {
                ban(d, round, n + " refused messages or updates in round " + (round + 1));
            }
        });
        strikes.clear();
        for (int d : failed) {
            int inARow = failedInARow.merge(d, 1, Integer::sum);
            if (inARow >= rules.failLimit()) {
                failedInARow.remove(d);
                ban(d, round, "late or gone " + inARow + " rounds in a row");
            }
        }
        finished.forEach(failedInARow::remove);
        List<Integer> out = new ArrayList<>();
        until.forEach((d, first) -> {
            if (first > round + 1) {
                out.add(d);
            }
        });
        return out;
    }

    private void ban(int device, int round, String why) {
        int n = bans.merge(device, 1, Integer::sum);
        int length = rules.banRounds() << Math.min(20, n - 1);
        until.put(device, round + 1 + length);
        log.warn("device {} is benched for {} rounds (until round {}): {}", device, length, round + 2 + length, why);
    }

    /** For a checkpoint: the first round each benched device may be sampled again. */
    Map<Integer, Integer> snapshot() {
        return new TreeMap<>(until);
    }
}
