package io.splitfed.actors.coordinator;

import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.plan.RoundPlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.train.Evaluation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * One round's books, kept apart from the coordinator's messages: who was sampled and where each
 * device stands (running, done, late, gone), their results and updates, the shards' reports, the
 * progress counters, and SplitLoRA's turns.
 */
final class RoundLedger {

    /** REFUSED: the device finished, but its update failed the checks; it is not waited for, and not used. */
    enum Status { RUNNING, DONE, LATE, GONE, REFUSED }

    private final LongSupplier clock;
    private int round = -1;
    private final Map<Integer, Status> status = new LinkedHashMap<>();
    private final Map<Integer, LoraAdapter> updates = new LinkedHashMap<>();
    private final Map<Integer, DeviceRoundStats> stats = new LinkedHashMap<>();
    private final Map<Integer, ServerShard.Closed> shardsClosed = new LinkedHashMap<>();
    private final ArrayDeque<Integer> turns = new ArrayDeque<>();
    private final Map<Integer, Integer> steps = new LinkedHashMap<>();
    /**
     * Shards that lost a closing round's work before they reported it, with the devices running the
     * round again for them: the round waits for those devices, then asks the shard for its report.
     */
    private final Map<Integer, java.util.Set<Integer>> reopened = new LinkedHashMap<>();
    private RoundPlan plan;
    private long microBatches;
    private boolean closing;
    private boolean closedByDeadline;
    private boolean aggregating;
    private long startNanos;
    private double trainSeconds = Double.NaN;

    /** Books timed by {@code clock} (nanoseconds), the job's clock. */
    RoundLedger(LongSupplier clock) {
        this.clock = clock;
    }

    /** Books timed by the host's clock. */
    RoundLedger() {
        this(System::nanoTime);
    }

    /** Opens {@code r} for {@code sampled}, each running its {@code steps}; with {@code inTurns}, one after another. */
    void open(int r, List<Integer> sampled, RoundPlan plan, Map<Integer, Integer> steps, boolean inTurns) {
        round = r;
        this.plan = plan;
        status.clear();
        updates.clear();
        stats.clear();
        shardsClosed.clear();
        reopened.clear();
        turns.clear();
        this.steps.clear();
        this.steps.putAll(steps);
        microBatches = steps.values().stream().mapToLong(Integer::longValue).sum();
        closing = false;
        closedByDeadline = false;
        aggregating = false;
        startNanos = clock.getAsLong();
        trainSeconds = Double.NaN;
        for (int d : sampled) {
            status.put(d, Status.RUNNING);
            if (inTurns) {
                turns.add(d);
            }
        }
    }

    int round() {
        return round;
    }

    RoundPlan plan() {
        return plan;
    }

    int steps(int device) {
        return steps.get(device);
    }

    long microBatches() {
        return microBatches;
    }

    boolean closing() {
        return closing;
    }

    boolean closedByDeadline() {
        return closedByDeadline;
    }

    boolean running(int device) {
        return status.get(device) == Status.RUNNING;
    }

    /** Takes a running device's result; false when the round or the device is past taking it. */
    boolean done(int device, int round, DeviceRoundStats result, LoraAdapter update) {
        if (round != this.round || status.get(device) != Status.RUNNING || closing && !rerunning(device)) {
            return false;
        }
        settleRerun(device);
        status.put(device, Status.DONE);
        stats.put(device, result);
        if (update != null) {
            updates.put(device, update);
        }
        return true;
    }

    /** A running device's result was refused; false when the round or the device is past it. */
    boolean refused(int device, int round) {
        if (round != this.round || status.get(device) != Status.RUNNING || closing && !rerunning(device)) {
            return false;
        }
        settleRerun(device);
        status.put(device, Status.REFUSED);
        return true;
    }

    /** A running device left; false when it was not running in the open round. */
    boolean gone(int device) {
        if (status.get(device) != Status.RUNNING || closing && !rerunning(device)) {
            return false;
        }
        settleRerun(device);
        status.put(device, Status.GONE);
        return true;
    }

    /** At the deadline: every device still running is late; returns them. */
    List<Integer> late() {
        List<Integer> late = new ArrayList<>();
        status.forEach((d, s) -> {
            if (s == Status.RUNNING) {
                late.add(d);
            }
        });
        late.forEach(d -> status.put(d, Status.LATE));
        return late;
    }

    /** The next device whose turn it is and that still runs, or null. */
    Integer nextTurn() {
        while (!turns.isEmpty()) {
            int d = turns.poll();
            if (status.get(d) == Status.RUNNING) {
                return d;
            }
        }
        return null;
    }

    boolean waitingForTurn(int device) {
        return turns.contains(device);
    }

    /**
     * A shard lost the round's work: the devices it serves that were running or done run again;
     * returns them, their results and progress forgotten.
     */
    List<Integer> rewind(int shard, Map<Integer, Integer> shardOf) {
        List<Integer> out = new ArrayList<>();
        for (Map.Entry<Integer, Status> e : status.entrySet()) {
            int d = e.getKey();
            if (shardOf.get(d) == shard && (e.getValue() == Status.RUNNING || e.getValue() == Status.DONE)) {
                out.add(d);
            }
        }
        for (int d : out) {
            status.put(d, Status.RUNNING);
            stats.remove(d);
            updates.remove(d);
        }
        return out;
    }

    /**
     * The closing round goes on for {@code shard}, whose new incarnation lost the round's work before
     * it reported: it waits for {@code devices}, which run the round again for it.
     */
    void reopen(int shard, List<Integer> devices) {
        reopened.put(shard, new java.util.TreeSet<>(devices));
    }

    private boolean rerunning(int device) {
        return reopened.values().stream().anyMatch(ds -> ds.contains(device));
    }

    private void settleRerun(int device) {
        reopened.values().forEach(ds -> ds.remove(device));
    }

    /** Reopened shards whose devices have all run the round again (each returned once): to be asked for their reports. */
    List<Integer> reclosable() {
        List<Integer> out = new ArrayList<>();
        reopened.forEach((shard, ds) -> {
            if (ds.isEmpty()) {
                out.add(shard);
            }
        });
        out.forEach(reopened::remove);
        return out;
    }

    /** The round sampled no device. */
    boolean sampledNone() {
        return status.isEmpty();
    }

    boolean allAnswered() {
        return status.values().stream().noneMatch(s -> s == Status.RUNNING);
    }

    void close(boolean byDeadline) {
        closing = true;
        closedByDeadline = byDeadline;
        trainSeconds = (clock.getAsLong() - startNanos) / 1e9;
    }

    /** The round goes to aggregation: true the first time only (every report in, or the close timeout). */
    boolean startAggregating() {
        boolean first = !aggregating;
        aggregating = true;
        return first;
    }

    /** The shards that have not reported the closing round, of {@code shards}. */
    List<Integer> shardsSilent(int shards) {
        List<Integer> out = new ArrayList<>();
        for (int s = 0; s < shards; s++) {
            if (!shardsClosed.containsKey(s)) {
                out.add(s);
            }
        }
        return out;
    }

    /** A shard's report of the open round; true once {@code shards} have reported. */
    boolean shardClosed(ServerShard.Closed report, int shards) {
        shardsClosed.put(report.report().shard(), report);
        return shardsClosed.size() == shards;
    }

    boolean hasShardReport(int shard) {
        return shardsClosed.containsKey(shard);
    }

    Map<Integer, LoraAdapter> updates() {
        return updates;
    }

    Map<Integer, DeviceRoundStats> stats() {
        return stats;
    }

    List<ServerShard.Closed> shardReports() {
        return List.copyOf(shardsClosed.values());
    }

    List<Integer> with(Status s) {
        List<Integer> out = new ArrayList<>();
        status.forEach((d, st) -> {
            if (st == s) {
                out.add(d);
            }
        });
        return out;
    }

    /** The round's summary, once it is scored: its devices by status, losses, samples and times. */
    RoundSummary summary(Evaluation.Result eval, List<Integer> benched, int lateApplied) {
        List<StepLoss> losses = new ArrayList<>();
        shardsClosed.values().forEach(sc -> losses.addAll(sc.report().losses()));
        stats.values().forEach(s -> losses.addAll(s.localLosses()));
        double trainLoss = losses.stream().mapToDouble(StepLoss::loss).average().orElse(Double.NaN);
        long samples = stats.values().stream().mapToLong(DeviceRoundStats::samples).sum();
        List<Integer> done = with(Status.DONE);
        return new RoundSummary(round, new ArrayList<>(status.keySet()), done, with(Status.LATE), with(Status.GONE), closedByDeadline,
                !done.isEmpty(), eval.accuracy(), eval.loss(), trainLoss, samples, (clock.getAsLong() - startNanos) / 1e9, trainSeconds,
                plan.predictedSeconds(), benched, lateApplied);
    }
}
