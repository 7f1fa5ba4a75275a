package io.splitfed.actors.coordinator;

import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.plan.RoundPlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.lora.LoraAdapter;

import org.slf4j.Logger;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * One round at a time, with no actor in it, shaped like Flower's {@code Strategy}: <b>sample</b>
 * and <b>plan</b> ({@link RoundOpening}), <b>admit</b> (the update checks and the
 * {@link Quarantine}), <b>close</b> ({@link RoundLedger}; {@link LateWork} for asynchronous
 * rounds; {@link ShardRecovery} when a shard is lost) and <b>score</b> ({@link RoundScoring}).
 * What it decides it adds to {@code out} as {@link RoundEffect}s; {@link JobCourse} runs the rounds
 * one after another and hands the effects to the shell. Devices and shards are numbers here.
 */
final class RoundPolicy {

    private final RoundRules rules;
    private final Logger log;
    private final List<RoundEffect> out;
    private final Map<Integer, DeviceProfile> profiles = new LinkedHashMap<>();
    private final Set<Integer> gone = new TreeSet<>();
    private final Quarantine quarantine;
    private final RoundLedger ledger;
    private final LateWork late = new LateWork();
    private final JobHistory history;
    private final RoundOpening opening;
    private LoraAdapter globalDevice;
    private LoraAdapter globalServer;
    private int round = -1;

    /** {@code clock} is the job's, in nanoseconds; {@code profiles} are the devices' own timings. */
    RoundPolicy(RoundRules rules, Map<Integer, DeviceProfile> profiles, LongSupplier clock, Logger log, List<RoundEffect> out) {
        this.rules = rules;
        this.log = log;
        this.out = out;
        this.profiles.putAll(profiles);
        JobCheckpoint resume = rules.resume();
        this.globalDevice = resume != null ? resume.globalDevice() : rules.initialDeviceAdapter();
        this.globalServer = resume != null ? resume.globalServer() : rules.initialServerAdapter();
        if (resume != null) {
            gone.addAll(resume.gone());
        }
        this.history = new JobHistory(resume != null ? resume.rounds() : List.of(), clock);
        this.quarantine = new Quarantine(rules.spec().robustness(), log, resume != null ? resume.quarantined() : Map.of());
        this.ledger = new RoundLedger(clock);
        this.opening = new RoundOpening(rules, log);
    }

    boolean gone(int device) {
        return gone.contains(device);
    }

    /** Devices free to take part in round {@code r}: here (on a fleet, not away this round), not still at work on an earlier round, and not benched. */
    int available(int r) {
        return (int) rules.devices().stream().filter(d -> canSample(d, r)).count();
    }

    /** Devices still at work on rounds that closed without them. */
    Set<Integer> lateDevices() {
        return late.busyDevices();
    }

    // ---- a round opens

    /** Samples, plans and starts round {@code r}. */
    void open(int r) {
        round = r;
        late.roundOpened();
        List<Integer> sampled = opening.sample(r, rules.devices(), d -> canSample(d, r));
        RoundPlan plan = opening.plan(r, sampled, profiles);
        ledger.open(r, sampled, plan, opening.steps(sampled, plan), opening.inTurns());
        out.add(new RoundEffect.Opened(r, ledger.microBatches()));
        if (opening.inTurns()) {
            nextTurn();
        } else {
            sampled.forEach(this::startDevice);
        }
        out.add(new RoundEffect.Arm(RoundEffect.Timer.DEADLINE, r, rules.spec().federation().roundDeadline()));
        log.info("round {}/{} started with devices {}", r + 1, rules.rounds(), sampled);
        out.add(new RoundEffect.Emit(new JobEvent.RoundStarted(r, rules.rounds(), sampled, ledger.microBatches())));
        if (sampled.isEmpty() && !late.anyBusy()) {
            closeRound(false);
        } // an empty round with late devices at work stays open for them: their micro-batches train only in an open round
    }

    private void startDevice(int d) {
        out.add(new RoundEffect.Start(d, round, ledger.steps(d), globalDevice, ledger.plan().of(d)));
    }

    private void nextTurn() {
        Integer d = ledger.nextTurn();
        if (d != null) {
            startDevice(d);
        }
    }

    private boolean canSample(int d, int r) {
        return !gone.contains(d) && !late.busy(d) && !quarantine.sitsOut(d, r) && (rules.fleet() == null || rules.fleet().present(d, r, rules.spec().seed()));
    }

    // ---- while it runs

    /** A device that rejoined has timed itself. */
    void profiled(DeviceProfile p) {
        profiles.put(p.device(), p);
    }

    /** A device came back: sampled again from the next round; its late work died with its old actor. */
    void rejoined(int device) {
        gone.remove(device);
        late.forget(device);
    }

    /**
     * {@code device}'s result for {@code resultRound}, from its own actor: its update is checked,
     * and it counts as this round's, as late work, or (after the round closed) for nothing. Returns
     * true when it was taken as late work.
     */
    boolean result(int device, int resultRound, DeviceRoundStats stats, LoraAdapter update) {
        String problem = update == null ? null : UpdateCheck.problem(update, globalDevice);
        if (problem != null) {
            log.warn("device {}: adapter update for round {} refused: {}", device, resultRound + 1, problem);
            quarantine.strike(device);
            if (ledger.refused(device, resultRound)) {
                advance(); // its own actor answered: the round does not wait for it
            }
        } else if (rules.spec().robustness().asynchronous() && late.arrive(device, resultRound, round, update, stats.samples())) {
            history.late(stats);
            log.info("device {}: late result for round {} arrived in round {}; applied{}", device, resultRound + 1, round + 1,
                    update != null ? " at the next aggregation with a staleness weight" : " (its micro-batches were trained as they came)");
            closeIfOnlyLateWorkWasLeft();
            return true;
        } else if (ledger.done(device, resultRound, stats, update)) {
            advance();
        } else {
            log.info("device {}: result for round {} arrived after it closed; not used", device, resultRound + 1);
        }
        return false;
    }

    /** {@code device}'s actor stopped: the round goes on without it. */
    void left(int device) {
        gone.add(device);
        late.forget(device); // its late work died with it
        closeIfOnlyLateWorkWasLeft();
        if (ledger.gone(device)) {
            log.warn("device {} is gone; round {} goes on without it", device, round);
            if (opening.inTurns() && !ledger.waitingForTurn(device)) {
                nextTurn();
            }
            maybeClose();
            recloseShards();
        }
    }

    /** Shard {@code shard}'s node died while it served {@code lostRound}; it runs again from that round's start. */
    void shardLost(int shard, int lostRound) {
        if (lostRound < round && globalServer != null) {
            out.add(new RoundEffect.LoadServer(List.of(shard), round, globalServer)); // the rounds since, as aggregated
        }
        shardReplaced(shard);
    }

    /** Shard {@code shard} is back from the start of the round: see {@link ShardRecovery}. */
    void shardReplaced(int shard) {
        if (round >= 0) {
            List<Integer> rewound = ShardRecovery.rewind(round, shard, ledger, late, rules.shardOf(), globalDevice, out, log);
            out.add(new RoundEffect.Emit(new JobEvent.ShardReplaced(shard, round, rewound)));
        }
    }

    /** A device stopped running: the next one takes its turn, and the round closes when none runs. */
    private void advance() {
        if (opening.inTurns()) {
            nextTurn();
        }
        maybeClose();
        recloseShards();
    }

    /** A closing round asks a shard that lost its work for its report once its devices have run the round again. */
    private void recloseShards() {
        if (ledger.closing()) {
            List<Integer> shards = ledger.reclosable();
            if (!shards.isEmpty()) {
                out.add(new RoundEffect.CloseShards(round, shards));
            }
        }
    }

    // ---- it closes

    /** The round's deadline: those still running are left behind (they go on, in asynchronous rounds). */
    void deadline(int deadlineRound) {
        if (deadlineRound == round && !ledger.closing()) {
            List<Integer> lateNow = ledger.late();
            log.warn("round {} reached its deadline; closing without late devices {}", round, lateNow);
            for (int d : lateNow) {
                if (rules.spec().robustness().asynchronous()) {
                    late.stillWorking(d, round); // it goes on; what it sends is applied when it arrives
                } else {
                    out.add(new RoundEffect.Abort(d, round));
                }
            }
            closeRound(true);
        }
    }

    /** A shard's report on the closing round. */
    void shardClosed(ServerShard.Closed c) {
        if (c.report().round() == round && ledger.shardClosed(c, rules.shards())) {
            aggregate();
        }
    }

    /** The shards' time to report is over: the round closes without the silent ones' work. */
    void closeDue(int closeRound) {
        List<Integer> silent = ledger.shardsSilent(rules.shards());
        if (closeRound == round && ledger.closing() && !silent.isEmpty()) {
            log.warn("round {}: shards {} did not report within {}; the round closes without their work", round + 1, silent, rules.closeTimeout());
            aggregate();
        }
    }

    /** A round that sampled nobody, open only for late devices' work, closes once none is at work. */
    private void closeIfOnlyLateWorkWasLeft() {
        // (between rounds the ledger is the closed round's, so this waits for an open one)
        if (round >= 0 && ledger.sampledNone() && !ledger.closing() && !late.anyBusy()) {
            closeRound(false);
        }
    }

    private void maybeClose() {
        if (!ledger.closing() && ledger.allAnswered()) {
            closeRound(false);
        }
    }

    private void closeRound(boolean byDeadline) {
        ledger.close(byDeadline);
        out.add(new RoundEffect.Closing(round));
        out.add(new RoundEffect.Disarm(RoundEffect.Timer.DEADLINE));
        if (rules.shards() == 0) {
            aggregate();
            return;
        }
        out.add(new RoundEffect.CloseShards(round, rules.allShards()));
        out.add(new RoundEffect.Arm(RoundEffect.Timer.CLOSE, round, rules.closeTimeout())); // no round outlives its deadline by more
    }

    /** Aggregating and evaluating: the scorer's; it answers with {@link RoundScorer.Scored}. */
    private void aggregate() {
        if (!ledger.startAggregating()) {
            return;
        }
        out.add(new RoundEffect.Disarm(RoundEffect.Timer.CLOSE));
        out.add(new RoundEffect.Score(RoundScoring.score(round, ledger, late, quarantine, globalDevice, globalServer, rules.spec(), log)));
    }

    /** Scored: the round's aggregated and evaluated adapters become the global ones; returns its summary (null for another round's score). */
    RoundSummary scored(RoundScorer.Scored m) {
        if (m.round() != round) {
            return null;
        }
        globalDevice = m.deviceGlobal();
        globalServer = m.serverGlobal();
        if (m.serverChanged() && ledger.shardReports().stream().mapToLong(sc -> sc.replicas().size()).sum() > 1) {
            out.add(new RoundEffect.LoadServer(rules.allShards(), round, globalServer));
        }
        RoundSummary summary = RoundScoring.summarize(round, m.eval(), ledger, late, quarantine, rules.devices(), opening.planner(), log);
        history.closed(summary, ledger.stats().values(), ledger.shardReports());
        out.add(new RoundEffect.Emit(new JobEvent.RoundClosed(summary)));
        return summary;
    }

    /** What a checkpoint after {@code roundsDone} rounds holds before the devices' and shards' snapshots join it. */
    JobCheckpoint checkpoint(int roundsDone) {
        return new JobCheckpoint(roundsDone, globalDevice, globalServer, Map.of(), Map.of(), history.summaries(), new TreeSet<>(gone),
                quarantine.snapshot());
    }

    /** The job's result so far. */
    JobResult jobResult() {
        return history.result(rules.spec(), globalDevice, globalServer);
    }
}
