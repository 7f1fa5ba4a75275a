package io.splitfed.actors.coordinator;

import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.coordinator.RoundCoordinator.Command;
import io.splitfed.actors.coordinator.RoundCoordinator.Deadline;
import io.splitfed.actors.coordinator.RoundCoordinator.DeviceRejoined;
import io.splitfed.actors.coordinator.RoundCoordinator.DeviceTerminated;
import io.splitfed.actors.coordinator.RoundCoordinator.Scored;
import io.splitfed.actors.coordinator.RoundCoordinator.FromCollector;
import io.splitfed.actors.coordinator.RoundCoordinator.FromDevice;
import io.splitfed.actors.coordinator.RoundCoordinator.FromShard;
import io.splitfed.actors.coordinator.RoundCoordinator.CloseDue;
import io.splitfed.actors.coordinator.RoundCoordinator.ShardLost;
import io.splitfed.actors.coordinator.RoundCoordinator.ShardReplaced;
import io.splitfed.actors.server.ShardStore;
import io.splitfed.actors.coordinator.RoundCoordinator.WaitOver;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.plan.RoundPlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.lora.LoraAdapter;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The coordinator once its devices have profiled themselves: runs the rounds. Each round is
 * <b>running</b> (devices train; SplitLoRA devices take turns), <b>closing</b> (when no sampled
 * device runs, or at the deadline; every shard reports), <b>aggregating</b>, <b>evaluating</b> (on
 * the tensor thread) and, when due, <b>checkpointing</b> (the next round waits for the snapshots,
 * not for the write). Its books are {@link RoundLedger}, {@link LateWork}, {@link Quarantine} and
 * {@link UpdateAdmission}; {@link RoundOpening} samples and plans each round.
 */
final class RoundCycle extends AbstractBehavior<Command> {

    private final CoordinatorSettings settings;
    private final TimerScheduler<Command> timers;
    private final Membership members;
    private final ActorRef<CheckpointCollector.Command> collector;
    private final ActorRef<RoundScorer.Command> scorer;
    /** Null when nobody listens to the job. */
    private final ActorRef<JobProgress.Command> progress;
    private final JobHistory history;
    private final RoundOpening opening;
    private final Map<Integer, DeviceProfile> profiles = new LinkedHashMap<>();
    private final int firstRound;
    private final Quarantine quarantine;
    private final RoundLedger ledger = new RoundLedger();
    private final java.time.Duration closeTimeout;
    private final LateWork late = new LateWork();
    private final Outbox outbox;
    private LoraAdapter globalDevice;
    private LoraAdapter globalServer;
    private long lastCheckpointNanos = System.nanoTime();
    private int round = -1;
    private int waitingToStart = -1;

    RoundCycle(ActorContext<Command> context, TimerScheduler<Command> timers, CoordinatorSettings settings, Map<Integer, DeviceProfile> profiles) {
        super(context);
        this.outbox = Outbox.get(context.getSystem());
        this.profiles.putAll(profiles);
        this.settings = settings;
        this.timers = timers;
        JobCheckpoint resume = settings.resume();
        this.globalDevice = resume != null ? resume.globalDevice() : settings.initialDeviceAdapter();
        this.globalServer = resume != null ? resume.globalServer() : settings.initialServerAdapter();
        this.firstRound = resume != null ? resume.roundsDone() : 0;
        this.history = new JobHistory(resume != null ? resume.rounds() : List.of());
        if (resume != null) {
            context.getLog().info("resuming from the checkpoint after round {}", resume.roundsDone());
        }
        this.members = new Membership(settings, resume != null ? resume.gone() : Set.of());
        this.quarantine = new Quarantine(settings.spec().robustness(), context.getLog(), resume != null ? resume.quarantined() : Map.of());
        this.opening = new RoundOpening(settings, context.getLog());
        this.closeTimeout = context.getSystem().settings().config().getDuration("splitfed.coordinator.close-timeout");
        this.scorer = context.spawn(RoundScorer.create(settings.aggregator(), settings.evaluator(),
                context.messageAdapter(RoundScorer.Scored.class, Scored::new)), "scorer");
        this.collector = context.spawn(CheckpointCollector.create(settings.spec().checkpoint(), resume != null ? resume.devices() : Map.of(),
                context.messageAdapter(CheckpointCollector.Reply.class, FromCollector::new)), "checkpoints");
        members.devices().forEach((id, ref) -> context.watchWith(ref, new DeviceTerminated(id, ref)));
        this.progress = settings.listener() == null ? null : context.spawn(JobProgress.create(settings.listener(),
                context.getSystem().settings().config().getDuration("splitfed.coordinator.shard-load-interval")), "progress");
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(FromDevice.class, m -> m.report() instanceof DeviceActor.RoundDone, m -> onRoundDone((DeviceActor.RoundDone) m.report()))
                .onMessage(FromDevice.class, m -> m.report() instanceof DeviceActor.Profiled, m -> {
                    DeviceProfile p = ((DeviceActor.Profiled) m.report()).profile(); // a device that rejoined
                    profiles.put(p.device(), p);
                    getContext().watchWith(members.device(p.device()), new DeviceTerminated(p.device(), members.device(p.device())));
                    return this;
                })
                .onMessage(FromShard.class, m -> m.report() instanceof ServerShard.Closed, m -> onShardClosed((ServerShard.Closed) m.report()))
                .onMessage(Scored.class, m -> onScored(m.scored()))
                .onMessage(FromCollector.class, m -> onCollector(m.reply()))
                .onMessage(WaitOver.class, m -> m.round() == waitingToStart, m -> startWaitingRound()) // with whoever is free
                .onMessage(DeviceTerminated.class, this::onTerminated)
                .onMessage(DeviceRejoined.class, this::onRejoined)
                .onMessage(ShardReplaced.class, this::onShardReplaced)
                .onMessage(ShardLost.class, m -> onShardLost(m.lost()))
                .onMessage(CloseDue.class, m -> {
                    List<Integer> silent = ledger.shardsSilent(members.shards().size());
                    if (m.round() == round && ledger.closing() && !silent.isEmpty()) {
                        getContext().getLog().warn("round {}: shards {} did not report within {}; the round closes without their work", round + 1,
                                silent, closeTimeout);
                        aggregate();
                    }
                    return this;
                })
                .onMessage(Deadline.class, this::onDeadline)
                .build();
    }

    /** The first round: 0, or the one after the checkpoint the job resumed from; or the end, when none is left. */
    Behavior<Command> begin() {
        if (firstRound >= settings.spec().federation().rounds()) {
            round = firstRound - 1;
            return finish();
        }
        startRound(firstRound);
        return this;
    }

    // ---- running

    private void startRound(int r) {
        round = r;
        late.roundOpened();
        List<Integer> sampled = opening.sample(r, members.devices().keySet(), d -> canSample(d, r));
        RoundPlan plan = opening.plan(r, sampled, profiles);
        ledger.open(r, sampled, plan, opening.steps(sampled, plan), opening.inTurns());
        if (progress != null) {
            outbox.send(progress, new JobProgress.RoundOpened(r, ledger.microBatches(), List.copyOf(members.shards())));
        }
        members.shards().forEach(shard -> outbox.send(shard, new ServerShard.RoundStarted(r)));
        if (opening.inTurns()) {
            nextTurn();
        } else {
            sampled.forEach(this::startDevice);
        }
        timers.startSingleTimer("deadline", new Deadline(r), settings.spec().federation().roundDeadline());
        getContext().getLog().info("round {}/{} started with devices {}", r + 1, settings.spec().federation().rounds(), sampled);
        emit(new JobEvent.RoundStarted(r, settings.spec().federation().rounds(), sampled, ledger.microBatches()));
        if (sampled.isEmpty() && !late.anyBusy()) {
            closeRound(false);
        } // an empty round with late devices at work stays open for them: their micro-batches train only in an open round
    }

    private void startDevice(int d) {
        outbox.send(members.device(d), new DeviceActor.StartRound(round, ledger.steps(d), globalDevice, members.shardFor(d),
                RoundCoordinator.DEVICE_REPORTS.replyTo(getContext().getSelf()), progress == null ? null : JobProgress.DEVICE_REPORTS.replyTo(progress),
                ledger.plan().of(d)));
    }

    private void nextTurn() {
        Integer d = ledger.nextTurn();
        if (d != null) {
            startDevice(d);
        }
    }

    /** Here, not still at work on an earlier round, and not benched. */
    private boolean canSample(int d, int r) {
        return !members.gone(d) && !late.busy(d) && !quarantine.sitsOut(d, r);
    }

    private int available(int r) {
        return (int) members.devices().keySet().stream().filter(d -> canSample(d, r)).count();
    }

    private Behavior<Command> onRoundDone(DeviceActor.RoundDone m) {
        UpdateAdmission.Refusal refused = UpdateAdmission.check(m, members.devices(), globalDevice);
        if (refused != null) {
            getContext().getLog().warn(refused.reason());
            if (refused.strike()) {
                quarantine.strike(m.device());
                if (ledger.refused(m.device(), m.round())) {
                    advance(); // its own actor answered: the round does not wait for it
                }
            }
            return this;
        }
        if (settings.spec().robustness().asynchronous() && late.arrive(m.device(), m.round(), round, m.update(), m.stats().samples())) {
            history.late(m.stats());
            getContext().getLog().info("device {}: late result for round {} arrived in round {}; applied{}", m.device(), m.round() + 1, round + 1,
                    m.update() != null ? " at the next aggregation with a staleness weight" : " (its micro-batches were trained as they came)");
            if (waitingToStart >= 0 && available(waitingToStart) >= settings.spec().federation().minDevices()) {
                startWaitingRound();
            }
            closeIfOnlyLateWorkWasLeft();
            return this;
        }
        if (!ledger.done(m.device(), m.round(), m.stats(), m.update())) {
            getContext().getLog().info("device {}: result for round {} arrived after it closed; not used", m.device(), m.round() + 1);
            return this;
        }
        advance();
        return this;
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
            for (int s : ledger.reclosable()) {
                outbox.send(members.shards().get(s), new ServerShard.CloseRound(round, RoundCoordinator.SHARD_REPORTS.replyTo(getContext().getSelf())));
            }
        }
    }

    private Behavior<Command> onTerminated(DeviceTerminated m) {
        if (!members.current(m.device(), m.ref()) || members.spuriousTermination(getContext().getSystem(), m.device(), m.ref())) {
            return this; // replaced by a rejoin; or Pekko's Terminated for a node back at a removed address
        }
        members.left(m.device());
        late.forget(m.device()); // its late work died with it
        closeIfOnlyLateWorkWasLeft();
        if (ledger.gone(m.device())) {
            getContext().getLog().warn("device {} is gone; round {} goes on without it", m.device(), round);
            if (opening.inTurns() && !ledger.waitingForTurn(m.device())) {
                nextTurn();
            }
            maybeClose();
            recloseShards();
        }
        return this;
    }

    /** A shard's node died and the shard started again from its round's start, on another node, behind the same route. */
    private Behavior<Command> onShardLost(ShardStore.Lost lost) {
        ActorRef<ServerShard.Command> ref = members.shards().get(lost.shard());
        if (lost.round() < round && globalServer != null) {
            outbox.send(ref, new ServerShard.LoadAdapter(round, globalServer)); // the rounds since, as aggregated
        }
        return onShardReplaced(new ShardReplaced(lost.shard(), ref));
    }

    private Behavior<Command> onShardReplaced(ShardReplaced m) {
        members.shardReplaced(m.shard(), m.ref());
        if (round < 0) {
            return this;
        }
        List<Integer> rewound = ShardRecovery.rewind(outbox, round, m.shard(), m.ref(), ledger, late, members, settings.shardOf(),
                globalDevice, RoundCoordinator.SHARD_REPORTS.replyTo(getContext().getSelf()));
        emit(new JobEvent.ShardReplaced(m.shard(), round, rewound));
        return this;
    }

    private Behavior<Command> onRejoined(DeviceRejoined m) {
        members.rejoined(m.device(), m.ref());
        late.forget(m.device());
        // watched once it has answered: a watch set up at once on a node that came back at the address of
        // one the cluster has just removed is answered with Terminated at once, and the device would be lost again
        outbox.send(m.ref(), new DeviceActor.Profile(settings.stepsPerRound().get(m.device()), RoundCoordinator.DEVICE_REPORTS.replyTo(getContext().getSelf())));
        getContext().getLog().info("device {} rejoined; it is sampled from the next round", m.device());
        return this;
    }

    // ---- closing

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

    private Behavior<Command> onDeadline(Deadline m) {
        if (m.round() == round && !ledger.closing()) {
            List<Integer> lateNow = ledger.late();
            getContext().getLog().warn("round {} reached its deadline; closing without late devices {}", round, lateNow);
            for (int d : lateNow) {
                if (settings.spec().robustness().asynchronous()) {
                    late.stillWorking(d, round); // it goes on; what it sends is applied when it arrives
                } else {
                    outbox.send(members.device(d), new DeviceActor.AbortRound(round));
                }
            }
            closeRound(true);
        }
        return this;
    }

    private void closeRound(boolean byDeadline) {
        ledger.close(byDeadline);
        if (progress != null) {
            outbox.send(progress, new JobProgress.RoundClosing(round));
        }
        timers.cancel("deadline");
        if (members.shards().isEmpty()) {
            aggregate();
            return;
        }
        members.shards().forEach(shard -> outbox.send(shard, new ServerShard.CloseRound(round, RoundCoordinator.SHARD_REPORTS.replyTo(getContext().getSelf()))));
        timers.startSingleTimer("close", new CloseDue(round), closeTimeout); // no round outlives its deadline by more
    }

    private Behavior<Command> onShardClosed(ServerShard.Closed c) {
        if (c.report().round() == round && ledger.shardClosed(c, members.shards().size())) {
            aggregate();
        }
        return this;
    }

    /** Aggregating and evaluating: the scorer's; it answers with {@link RoundScorer.Scored}. */
    private void aggregate() {
        if (!ledger.startAggregating()) {
            return;
        }
        timers.cancel("close");
        outbox.send(scorer, RoundScoring.score(round, ledger, late, quarantine, globalDevice, globalServer, settings.spec(), getContext().getLog()));
    }

    // ---- evaluated: summed up, checkpointed when due, and on to the next round

    private Behavior<Command> onScored(RoundScorer.Scored m) {
        if (m.round() != round) {
            return this;
        }
        globalDevice = m.deviceGlobal();
        globalServer = m.serverGlobal();
        if (m.serverChanged() && ledger.shardReports().stream().mapToLong(sc -> sc.replicas().size()).sum() > 1) {
            members.shards().forEach(shard -> outbox.send(shard, new ServerShard.LoadAdapter(round, globalServer)));
        }
        RoundSummary summary = RoundScoring.summarize(round, m.eval(), ledger, late, quarantine, members.devices().keySet(), opening.planner(),
                getContext().getLog());
        history.closed(summary, ledger.stats().values(), ledger.shardReports());
        emit(new JobEvent.RoundClosed(summary));
        int roundsDone = round + 1;
        if (CheckpointCollector.due(settings.spec().checkpoint(), roundsDone, settings.spec().federation().rounds(), lastCheckpointNanos)) {
            lastCheckpointNanos = System.nanoTime();
            outbox.send(collector, new CheckpointCollector.Collect(new JobCheckpoint(roundsDone, globalDevice, globalServer, Map.of(), Map.of(),
                    history.summaries(), members.goneDevices(), quarantine.snapshot()), List.copyOf(members.shards()), members.present()));
            return this; // the next round waits for the snapshots
        }
        return next(roundsDone);
    }

    /** After {@code done} rounds: the next round, or the end of the job. */
    private Behavior<Command> next(int done) {
        if (done < settings.spec().federation().rounds()) {
            int free = available(done);
            if (settings.spec().robustness().asynchronous() && free < settings.spec().federation().minDevices() && late.anyBusy()
                    && !settings.spec().mode().isSplit()) {
                // every device still at work on an earlier round: wait for results rather than run an empty round (split
                // devices' late work trains only in an open round, so for them the round opens, and waits for it)
                waitingToStart = done;
                getContext().getLog().info("round {} waits for late devices {} ({} free, min-devices {})", done + 1, late.busyDevices(), free,
                        settings.spec().federation().minDevices());
                timers.startSingleTimer("wait", new WaitOver(done), settings.spec().federation().roundDeadline());
                return this;
            }
            startRound(done);
            return this;
        }
        return finish();
    }

    private Behavior<Command> startWaitingRound() {
        int r = waitingToStart;
        waitingToStart = -1;
        timers.cancel("wait");
        startRound(r);
        return this;
    }

    private Behavior<Command> finish() {
        JobResult result = history.result(settings.spec(), globalDevice, globalServer);
        emit(new JobEvent.Finished(result));
        outbox.send(settings.replyTo(), result);
        return Behaviors.stopped();
    }

    // ---- checkpointing

    /**
     * The snapshots are in: the next round starts at once (they are copies); the job's end waits
     * for the last write.
     */
    private Behavior<Command> onCollector(CheckpointCollector.Reply reply) {
        if (reply instanceof CheckpointCollector.Gathered g) {
            return g.roundsDone() < settings.spec().federation().rounds() ? next(g.roundsDone()) : this;
        }
        CheckpointCollector.Written w = (CheckpointCollector.Written) reply;
        if (w.error() == null) {
            emit(new JobEvent.Checkpointed(w.roundsDone(), w.file().toString()));
        }
        return w.roundsDone() >= settings.spec().federation().rounds() ? finish() : this;
    }

    private void emit(JobEvent e) {
        if (settings.listener() != null) {
            outbox.send(settings.listener(), e);
        }
    }
}
