package io.splitfed.actors.coordinator;

import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.lora.LoraAdapter;

import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The coordinator's core: the job's rounds one after another, with no actor in it. Each call takes
 * one event (a device's result, a shard's report, a timer, a score, a checkpoint's progress) and
 * returns the {@link RoundEffect}s the {@link RoundCycle} shell carries out, in order. Within a
 * round the {@link RoundPolicy} decides; between rounds this decides whether a checkpoint is due,
 * whether the next round waits for late devices, and when the job ends. Time is the injected
 * {@code clock}, and timers are effects, so a test drives a whole job by hand.
 */
final class JobCourse {

    private final RoundRules rules;
    private final Logger log;
    private final LongSupplier clock;
    private final List<RoundEffect> out = new ArrayList<>();
    private final RoundPolicy policy;
    private final int firstRound;
    private long lastCheckpointNanos;
    private int waitingToStart = -1;

    /** {@code clock} is the job's, in nanoseconds; {@code profiles} are the devices' own timings. */
    JobCourse(RoundRules rules, Map<Integer, DeviceProfile> profiles, LongSupplier clock, Logger log) {
        this.rules = rules;
        this.log = log;
        this.clock = clock;
        this.policy = new RoundPolicy(rules, profiles, clock, log, out);
        this.firstRound = rules.resume() != null ? rules.resume().roundsDone() : 0;
        if (rules.resume() != null) {
            log.info("resuming from the checkpoint after round {}", firstRound);
        }
        this.lastCheckpointNanos = clock.getAsLong();
    }

    /** Whether {@code device} has left the job (and not come back). */
    boolean gone(int device) {
        return policy.gone(device);
    }

    /** The first round: 0, or the one after the checkpoint the job resumed from; or the end, when none is left. */
    List<RoundEffect> begin() {
        if (firstRound >= rules.rounds()) {
            finish();
        } else {
            policy.open(firstRound);
        }
        return effects();
    }

    // ---- the round's events, decided by its policy

    List<RoundEffect> result(int device, int resultRound, DeviceRoundStats stats, LoraAdapter update) {
        if (policy.result(device, resultRound, stats, update) && waitingToStart >= 0
                && policy.available(waitingToStart) >= rules.spec().federation().minDevices()) {
            startWaitingRound(); // enough late devices are back
        }
        return effects();
    }

    void profiled(DeviceProfile p) {
        policy.profiled(p);
    }

    void rejoined(int device) {
        policy.rejoined(device);
    }

    List<RoundEffect> left(int device) {
        policy.left(device);
        return effects();
    }

    List<RoundEffect> shardLost(int shard, int lostRound) {
        policy.shardLost(shard, lostRound);
        return effects();
    }

    List<RoundEffect> shardReplaced(int shard) {
        policy.shardReplaced(shard);
        return effects();
    }

    List<RoundEffect> deadline(int deadlineRound) {
        policy.deadline(deadlineRound);
        return effects();
    }

    List<RoundEffect> shardClosed(ServerShard.Closed c) {
        policy.shardClosed(c);
        return effects();
    }

    List<RoundEffect> closeDue(int closeRound) {
        policy.closeDue(closeRound);
        return effects();
    }

    // ---- between rounds

    /** The round is aggregated and evaluated: checkpointed when due (the next round then waits for the snapshots), else on to the next. */
    List<RoundEffect> scored(RoundScorer.Scored m) {
        if (policy.scored(m) == null) {
            return effects(); // another round's score
        }
        int roundsDone = m.round() + 1;
        long now = clock.getAsLong();
        if (CheckpointCollector.due(rules.spec().checkpoint(), roundsDone, rules.rounds(), lastCheckpointNanos, now)) {
            lastCheckpointNanos = now;
            out.add(new RoundEffect.Checkpoint(policy.checkpoint(roundsDone)));
        } else {
            next(roundsDone);
        }
        return effects();
    }

    /** The checkpoint's snapshots are in (they are copies): the next round starts at once. */
    List<RoundEffect> checkpointGathered(int roundsDone) {
        if (roundsDone < rules.rounds()) {
            next(roundsDone);
        }
        return effects();
    }

    /** The checkpoint is written, to {@code file} (null when it failed); the job's end waits for the last one. */
    List<RoundEffect> checkpointWritten(int roundsDone, String file) {
        if (file != null) {
            out.add(new RoundEffect.Emit(new JobEvent.Checkpointed(roundsDone, file)));
        }
        if (roundsDone >= rules.rounds()) {
            finish();
        }
        return effects();
    }

    /** A round that waited for late devices starts with whoever is free. */
    List<RoundEffect> waitOver(int waitRound) {
        if (waitRound == waitingToStart) {
            startWaitingRound();
        }
        return effects();
    }

    /** After {@code done} rounds: the next round, or the end of the job. */
    private void next(int done) {
        if (done >= rules.rounds()) {
            finish();
            return;
        }
        int free = policy.available(done);
        var federation = rules.spec().federation();
        if (rules.spec().robustness().asynchronous() && free < federation.minDevices() && !policy.lateDevices().isEmpty()
                && !rules.spec().mode().isSplit()) {
            // every device still at work on an earlier round: wait for results rather than run an empty round (split
            // devices' late work trains only in an open round, so for them the round opens, and waits for it)
            waitingToStart = done;
            log.info("round {} waits for late devices {} ({} free, min-devices {})", done + 1, policy.lateDevices(), free, federation.minDevices());
            out.add(new RoundEffect.Arm(RoundEffect.Timer.WAIT, done, federation.roundDeadline()));
            return;
        }
        policy.open(done);
    }

    private void startWaitingRound() {
        int r = waitingToStart;
        waitingToStart = -1;
        out.add(new RoundEffect.Disarm(RoundEffect.Timer.WAIT));
        policy.open(r);
    }

    private void finish() {
        JobResult result = policy.jobResult();
        out.add(new RoundEffect.Emit(new JobEvent.Finished(result)));
        out.add(new RoundEffect.Finish(result));
    }

    /** What this call decided, handed over once. */
    private List<RoundEffect> effects() {
        List<RoundEffect> done = List.copyOf(out);
        out.clear();
        return done;
    }
}
