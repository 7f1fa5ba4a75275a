package io.splitfed.actors.coordinator;

import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.aggregator.WeightedUpdate;
import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.plan.RoundPlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.Wire;
import io.splitfed.actors.wire.WireMessage;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.train.Evaluation;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Runs the rounds, as a state machine: profiling (every device times itself), running (devices
 * train; the round closes when all sampled have answered or at its deadline), closing (the shards
 * report), aggregating, evaluating, and checkpointing before the next round. Its bookkeeping lives
 * in {@link RoundLedger}, {@link LateWork}, {@link Quarantine} and {@link UpdateCheck}; a child
 * {@link CheckpointCollector} takes the checkpoints. Replies come in the repliers' own protocols.
 */
public final class RoundCoordinator extends AbstractBehavior<RoundCoordinator.Command> {

    /** What the coordinator understands. */
    public sealed interface Command extends WireMessage {}

    /** Begin the first round. */
    public enum Start implements Command { INSTANCE }

    /**
     * Shard {@code shard} lost its node and runs again as {@code ref}, from the state it had when
     * the round began: its devices run the round again, so everything they send is trained once.
     */
    public record ShardReplaced(int shard, ActorRef<ServerShard.Command> ref) implements Command {}

    /** A stopped device is back (with its state); it is sampled again from the next round. */
    public record DeviceRejoined(int device, ActorRef<DeviceActor.Command> ref) implements Command {}

    private record FromDevice(DeviceActor.Report report) implements Command, NoSerializationVerificationNeeded {}

    private record FromShard(ServerShard.Report report) implements Command, NoSerializationVerificationNeeded {}

    private record FromAggregator(Aggregator.Result result) implements Command, NoSerializationVerificationNeeded {}

    private record FromCollector(CheckpointCollector.Reply reply) implements Command, NoSerializationVerificationNeeded {}

    private record DeviceTerminated(int device, ActorRef<DeviceActor.Command> ref) implements Command, NoSerializationVerificationNeeded {}

    private enum ProfilesDue implements Command, NoSerializationVerificationNeeded { INSTANCE }

    private record Deadline(int round) implements Command, NoSerializationVerificationNeeded {}

    private enum LoadDue implements Command, NoSerializationVerificationNeeded { INSTANCE }

    private record WaitOver(int round) implements Command, NoSerializationVerificationNeeded {}

    private record Evaluated(int round, Evaluation.Result result, Throwable error) implements Command, NoSerializationVerificationNeeded {}

    public static Behavior<Command> create(CoordinatorSettings settings) {
        return Inbound.receiving(Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RoundCoordinator(ctx, timers, settings))),
                Inbound.adapt(DeviceActor.Report.class, FromDevice::new), Inbound.adapt(ServerShard.Report.class, FromShard::new),
                Inbound.adapt(Aggregator.Result.class, FromAggregator::new));
    }

    private final CoordinatorSettings settings;
    private final TimerScheduler<Command> timers;
    private final Map<Integer, ActorRef<DeviceActor.Command>> devices;
    private final List<ActorRef<ServerShard.Command>> shards;
    private final ActorRef<CheckpointCollector.Command> collector;
    private final Set<Integer> gone = new TreeSet<>();
    private final List<RoundSummary> summaries = new ArrayList<>();
    private final List<DeviceRoundStats> deviceStats = new ArrayList<>();
    private final List<ShardRoundReport> shardReports = new ArrayList<>();
    private final long jobStart = System.nanoTime();
    private final RoundOpening opening;
    private final Map<Integer, DeviceProfile> profiles = new LinkedHashMap<>();
    private final Set<Integer> awaitingProfiles = new TreeSet<>();
    private final int firstRound;
    private final Quarantine quarantine;
    private final RoundLedger ledger = new RoundLedger();
    private final LateWork late = new LateWork();
    private LoraAdapter globalDevice;
    private LoraAdapter globalServer;
    private long lastCheckpointNanos = System.nanoTime();
    private int round = -1;
    private int waitingToStart = -1;

    private RoundCoordinator(ActorContext<Command> context, TimerScheduler<Command> timers, CoordinatorSettings settings) {
        super(context);
        this.settings = settings;
        this.timers = timers;
        JobCheckpoint resume = settings.resume();
        this.globalDevice = resume != null ? resume.globalDevice() : settings.initialDeviceAdapter();
        this.globalServer = resume != null ? resume.globalServer() : settings.initialServerAdapter();
        this.firstRound = resume != null ? resume.roundsDone() : 0;
        if (resume != null) {
            summaries.addAll(resume.rounds());
            gone.addAll(resume.gone());
            context.getLog().info("resuming from the checkpoint after round {}", resume.roundsDone());
        }
        this.quarantine = new Quarantine(settings.spec().robustness(), context.getLog(), resume != null ? resume.quarantined() : Map.of());
        this.devices = new LinkedHashMap<>(settings.devices());
        this.shards = new ArrayList<>(settings.shards());
        this.opening = new RoundOpening(settings, context.getLog());
        this.collector = context.spawn(CheckpointCollector.create(settings.spec().checkpoint(), resume != null ? resume.devices() : Map.of(),
                context.messageAdapter(CheckpointCollector.Reply.class, FromCollector::new)), "checkpoints");
        devices.forEach((id, ref) -> context.watchWith(ref, new DeviceTerminated(id, ref)));
        if (settings.listener() != null && !shards.isEmpty()) {
            timers.startTimerWithFixedDelay("load", LoadDue.INSTANCE, context.getSystem().settings().config().getDuration("splitfed.coordinator.shard-load-interval"));
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessageEquals(Start.INSTANCE, this::onStart)
                .onMessageEquals(ProfilesDue.INSTANCE, this::onProfilesDue)
                .onMessage(FromDevice.class, m -> onDevice(m.report()))
                .onMessage(FromShard.class, m -> onShard(m.report()))
                .onMessage(FromAggregator.class, m -> onAggregated(m.result()))
                .onMessage(FromCollector.class, m -> onCollector(m.reply()))
                .onMessage(WaitOver.class, m -> {
                    if (m.round() == waitingToStart) {
                        startWaitingRound(); // with whoever is free
                    }
                    return this;
                })
                .onMessageEquals(LoadDue.INSTANCE, () -> {
                    shards.forEach(s -> s.tell(new ServerShard.ReportLoad(Inbound.replyTo(getContext().getSelf()))));
                    return this;
                })
                .onMessage(DeviceTerminated.class, this::onTerminated)
                .onMessage(DeviceRejoined.class, this::onRejoined)
                .onMessage(ShardReplaced.class, this::onShardReplaced)
                .onMessage(Deadline.class, this::onDeadline)
                .onMessage(Evaluated.class, this::onEvaluated)
                .build();
    }

    // ---- profiling

    /** Has every device profile itself, and starts the first round when all have (or at the timeout). */
    private Behavior<Command> onStart() {
        if (round >= 0 || !awaitingProfiles.isEmpty()) {
            return this;
        }
        if (settings.resume() != null) {
            // ahead of everything else this coordinator sends them, so it arrives first
            settings.resume().devices().forEach((d, snap) -> {
                if (devices.containsKey(d)) {
                    Wire.tell(getContext().getSystem(), devices.get(d), new DeviceActor.Resume(snap));
                }
            });
        }
        awaitingProfiles.addAll(devices.keySet());
        devices.forEach((d, ref) -> ref.tell(new DeviceActor.Profile(settings.stepsPerRound().get(d), Inbound.replyTo(getContext().getSelf()))));
        timers.startSingleTimer("profiles", ProfilesDue.INSTANCE, settings.spec().planning().profileTimeout());
        return this;
    }

    private Behavior<Command> onProfilesDue() {
        if (round < 0) {
            getContext().getLog().warn("devices {} sent no profile within {}; starting without them", awaitingProfiles,
                    settings.spec().planning().profileTimeout());
            begin();
        }
        return this;
    }

    private Behavior<Command> onDevice(DeviceActor.Report report) {
        if (report instanceof DeviceActor.Progress p) {
            long done = ledger.progress(p.device(), p.round(), p.answered(), p.samples());
            if (done >= 0) {
                emit(new JobEvent.Progress(round, done, ledger.microBatches(), ledger.samplesSoFar(), p.device(), p.answered(), p.steps(),
                        p.bytesUp(), p.bytesDown(), p.inFlight(), p.loss()));
            }
        } else if (report instanceof DeviceActor.RoundDone d) {
            onRoundDone(d);
        } else if (report instanceof DeviceActor.Profiled p) {
            profiles.put(p.profile().device(), p.profile());
            if (awaitingProfiles.remove(p.profile().device()) && awaitingProfiles.isEmpty() && round < 0) {
                timers.cancel("profiles");
                begin();
            }
        }
        return this;
    }

    /** The first round: 0, or the one after the checkpoint the job resumed from. */
    private void begin() {
        if (firstRound >= settings.spec().federation().rounds()) {
            round = firstRound - 1;
            finish();
        } else {
            startRound(firstRound);
        }
    }

    // ---- running

    private void startRound(int r) {
        round = r;
        late.roundOpened();
        List<Integer> sampled = opening.sample(r, devices.keySet(), d -> canSample(d, r));
        RoundPlan plan = opening.plan(r, sampled, profiles);
        ledger.open(r, sampled, plan, opening.steps(sampled, plan), takesTurns());
        for (ActorRef<ServerShard.Command> shard : shards) {
            shard.tell(new ServerShard.RoundStarted(r));
        }
        if (takesTurns()) {
            nextTurn();
        } else {
            sampled.forEach(this::startDevice);
        }
        timers.startSingleTimer("deadline", new Deadline(r), settings.spec().federation().roundDeadline());
        getContext().getLog().info("round {}/{} started with devices {}", r + 1, settings.spec().federation().rounds(), sampled);
        emit(new JobEvent.RoundStarted(r, settings.spec().federation().rounds(), sampled, ledger.microBatches()));
        if (sampled.isEmpty()) {
            closeRound(false);
        }
    }

    /** SplitLoRA (SFL with one shared server adapter): devices train against the server one after another. */
    private boolean takesTurns() {
        var spec = settings.spec();
        return spec.mode() == io.splitfed.actors.job.TrainingMode.SFL && !spec.server().perDeviceReplicas();
    }

    private void startDevice(int d) {
        ActorRef<ServerShard.Command> shard = shards.isEmpty() ? null : shards.get(settings.shardOf().get(d));
        Wire.tell(getContext().getSystem(), devices.get(d), new DeviceActor.StartRound(round, ledger.steps(d), globalDevice, shard,
                Inbound.replyTo(getContext().getSelf()), ledger.plan().of(d)));
    }

    private void nextTurn() {
        Integer d = ledger.nextTurn();
        if (d != null) {
            startDevice(d);
        }
    }

    /** Here, not still at work on an earlier round, and not benched. */
    private boolean canSample(int d, int r) {
        return !gone.contains(d) && !late.busy(d) && !quarantine.sitsOut(d, r);
    }

    private int available(int r) {
        return (int) devices.keySet().stream().filter(d -> canSample(d, r)).count();
    }

    private void onRoundDone(DeviceActor.RoundDone m) {
        UpdateAdmission.Refusal refused = UpdateAdmission.check(m, devices, globalDevice);
        if (refused != null) {
            getContext().getLog().warn(refused.reason());
            if (refused.strike()) {
                quarantine.strike(m.device());
                if (ledger.refused(m.device(), m.round())) {
                    advance(); // its own actor answered: the round does not wait for it
                }
            }
            return;
        }
        if (settings.spec().robustness().asynchronous() && late.arrive(m.device(), m.round(), round, m.update(), m.stats().samples())) {
            deviceStats.add(m.stats());
            getContext().getLog().info("device {}: late result for round {} arrived in round {}; applied{}", m.device(), m.round() + 1, round + 1,
                    m.update() != null ? " at the next aggregation with a staleness weight" : " (its micro-batches were trained as they came)");
            if (waitingToStart >= 0 && available(waitingToStart) >= settings.spec().federation().minDevices()) {
                startWaitingRound();
            }
            return;
        }
        if (!ledger.done(m.device(), m.round(), m.stats(), m.update())) {
            getContext().getLog().info("device {}: result for round {} arrived after it closed; not used", m.device(), m.round() + 1);
            return;
        }
        advance();
    }

    /** A device stopped running: the next one takes its turn, and the round closes when none runs. */
    private void advance() {
        if (takesTurns()) {
            nextTurn();
        }
        maybeClose();
    }

    private Behavior<Command> onTerminated(DeviceTerminated m) {
        if (!m.ref().equals(devices.get(m.device()))) {
            return this; // an incarnation the device has already replaced by rejoining
        }
        gone.add(m.device());
        late.forget(m.device()); // its late work died with it
        if (ledger.gone(m.device())) {
            getContext().getLog().warn("device {} is gone; round {} goes on without it", m.device(), round);
            if (takesTurns() && !ledger.waitingForTurn(m.device())) {
                nextTurn();
            }
            maybeClose();
        }
        return this;
    }

    private Behavior<Command> onShardReplaced(ShardReplaced m) {
        shards.set(m.shard(), m.ref());
        getContext().getLog().warn("shard {} is back from the start of round {}; its devices run the round again", m.shard(), round + 1);
        if (round < 0) {
            return this;
        }
        m.ref().tell(new ServerShard.RoundStarted(round));
        List<Integer> rewound = ledger.rewind(m.shard(), settings.shardOf());
        for (int d : rewound) {
            Wire.tell(getContext().getSystem(), devices.get(d), new DeviceActor.Rewind(round, m.ref(), globalDevice, true));
        }
        // late devices of this shard run their own round again too (its global adapter is gone: they keep theirs)
        late.forEachBusy((d, theirs) -> {
            if (settings.shardOf().get(d) == m.shard()) {
                Wire.tell(getContext().getSystem(), devices.get(d), new DeviceActor.Rewind(theirs, m.ref(), null, false));
            }
        });
        if (ledger.closing() && !ledger.hasShardReport(m.shard())) {
            m.ref().tell(new ServerShard.CloseRound(round, Inbound.replyTo(getContext().getSelf())));
        }
        emit(new JobEvent.ShardReplaced(m.shard(), round, rewound));
        return this;
    }

    private Behavior<Command> onRejoined(DeviceRejoined m) {
        devices.put(m.device(), m.ref());
        gone.remove(m.device());
        late.forget(m.device());
        getContext().watchWith(m.ref(), new DeviceTerminated(m.device(), m.ref()));
        m.ref().tell(new DeviceActor.Profile(settings.stepsPerRound().get(m.device()), Inbound.replyTo(getContext().getSelf())));
        getContext().getLog().info("device {} rejoined; it is sampled from the next round", m.device());
        return this;
    }

    // ---- closing

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
                    devices.get(d).tell(new DeviceActor.AbortRound(round));
                }
            }
            closeRound(true);
        }
        return this;
    }

    private void closeRound(boolean byDeadline) {
        ledger.close(byDeadline);
        timers.cancel("deadline");
        if (shards.isEmpty()) {
            aggregate();
            return;
        }
        for (ActorRef<ServerShard.Command> shard : shards) {
            shard.tell(new ServerShard.CloseRound(round, Inbound.replyTo(getContext().getSelf())));
        }
    }

    private Behavior<Command> onShard(ServerShard.Report report) {
        if (report instanceof ServerShard.Closed c && c.report().round() == round && ledger.shardClosed(c, shards.size())) {
            aggregate();
        } else if (report instanceof ServerShard.Load l) {
            emit(new JobEvent.ShardLoad(l.shard(), l.queued(), l.steps(), l.loss()));
        }
        return this;
    }

    // ---- aggregating

    private void aggregate() {
        List<WeightedUpdate> device = new ArrayList<>();
        ledger.updates().forEach((d, u) -> device.add(new WeightedUpdate(d, u, ledger.stats().get(d).samples())));
        device.addAll(late.drain(round, settings.spec().robustness().stalenessExponent()));
        UpdateCheck.outliers(device, globalDevice, settings.spec().robustness().normOutlierFactor()).forEach((d, why) -> {
            getContext().getLog().warn("device {}: adapter update for round {} refused: {}", d, round + 1, why);
            quarantine.strike(d);
            device.removeIf(u -> u.source() == d);
        });
        List<WeightedUpdate> server = new ArrayList<>();
        ledger.shardReports().forEach(sc -> sc.replicas().forEach((key, adapter) ->
                server.add(new WeightedUpdate(key, adapter, sc.weights().getOrDefault(key, 0.0)))));
        int done = ledger.with(RoundLedger.Status.DONE).size();
        if (done < settings.spec().federation().minDevices()) {
            getContext().getLog().warn("round {}: {} devices finished, fewer than min-devices {}; the global adapters stay as they were",
                    round, done, settings.spec().federation().minDevices());
            getContext().getSelf().tell(new FromAggregator(new Aggregator.Result(round, null, null, List.of("too few devices"))));
            return;
        }
        Wire.tell(getContext().getSystem(), settings.aggregator(), new Aggregator.Aggregate(round, device, server, Inbound.replyTo(getContext().getSelf())));
    }

    private Behavior<Command> onAggregated(Aggregator.Result m) {
        if (m.round() != round) {
            return this;
        }
        if (m.deviceGlobal() != null) {
            globalDevice = m.deviceGlobal();
        }
        if (m.serverGlobal() != null) {
            globalServer = m.serverGlobal();
            long replicas = ledger.shardReports().stream().mapToLong(sc -> sc.replicas().size()).sum();
            if (replicas > 1) {
                for (ActorRef<ServerShard.Command> shard : shards) {
                    shard.tell(new ServerShard.LoadAdapter(round, globalServer));
                }
            }
        }
        LoraAdapter dev = globalDevice;
        LoraAdapter srv = globalServer;
        int r = round;
        CompletableFuture<Evaluation.Result> eval = TensorExecutor.shared().submit(() -> settings.evaluator().evaluate(dev, srv));
        getContext().pipeToSelf(eval, (ok, err) -> new Evaluated(r, ok, err));
        return this;
    }

    // ---- evaluating

    private Behavior<Command> onEvaluated(Evaluated m) {
        if (m.round() != round) {
            return this;
        }
        if (m.error() != null) {
            getContext().getLog().error("round {}: evaluation failed", round, m.error());
        }
        Evaluation.Result eval = m.result() == null ? new Evaluation.Result(Double.NaN, Double.NaN, 0) : m.result();
        ledger.shardReports().forEach(sc -> quarantine.strikes(sc.report().strikes()));
        List<Integer> failed = new ArrayList<>(ledger.with(RoundLedger.Status.LATE));
        failed.addAll(ledger.with(RoundLedger.Status.GONE));
        List<Integer> benched = quarantine.endRound(round, devices.keySet(), failed, ledger.with(RoundLedger.Status.DONE));
        RoundSummary summary = ledger.summary(eval, benched, late.applied());
        try {
            opening.planner().observe(round, ledger.stats().values(), ledger.shardReports().stream().map(ServerShard.Closed::report).toList());
        } catch (RuntimeException e) {
            getContext().getLog().error("round {}: the planner could not take in the round's timings ({})", round + 1, e.toString());
        }
        summaries.add(summary);
        deviceStats.addAll(ledger.stats().values());
        ledger.shardReports().forEach(sc -> shardReports.add(sc.report()));
        getContext().getLog().info("round {} closed: accuracy {} eval loss {} train loss {} ({} samples, {}s{})", round + 1,
                String.format("%.4f", eval.accuracy()), String.format("%.4f", eval.loss()), String.format("%.4f", summary.trainLoss()), summary.samples(),
                String.format("%.1f", summary.seconds()), ledger.closedByDeadline() ? ", by deadline" : "");
        emit(new JobEvent.RoundClosed(summary));
        int roundsDone = round + 1;
        if (checkpointDue(roundsDone)) {
            lastCheckpointNanos = System.nanoTime();
            Map<Integer, ActorRef<DeviceActor.Command>> here = new LinkedHashMap<>(devices);
            here.keySet().removeAll(gone);
            collector.tell(new CheckpointCollector.Collect(new JobCheckpoint(roundsDone, globalDevice, globalServer, Map.of(), Map.of(),
                    List.copyOf(summaries), new TreeSet<>(gone), quarantine.snapshot()), List.copyOf(shards), here));
            return this; // the next round waits for the snapshots
        }
        return next(roundsDone);
    }

    /** After {@code done} rounds: the next round, or the end of the job. */
    private Behavior<Command> next(int done) {
        if (done < settings.spec().federation().rounds()) {
            int free = available(done);
            if (settings.spec().robustness().asynchronous() && free < settings.spec().federation().minDevices() && late.anyBusy()) {
                // every device still at work on an earlier round: wait for results rather than run an empty round
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

    private void startWaitingRound() {
        int r = waitingToStart;
        waitingToStart = -1;
        timers.cancel("wait");
        startRound(r);
    }

    private Behavior<Command> finish() {
        JobResult result = new JobResult(settings.spec(), List.copyOf(summaries), List.copyOf(deviceStats), List.copyOf(shardReports),
                globalDevice, globalServer, (System.nanoTime() - jobStart) / 1e9);
        emit(new JobEvent.Finished(result));
        settings.replyTo().tell(result);
        return Behaviors.stopped();
    }

    // ---- checkpointing

    private boolean checkpointDue(int done) {
        var c = settings.spec().checkpoint();
        if (!c.enabled()) {
            return false;
        }
        boolean byTime = !c.interval().isZero() && System.nanoTime() - lastCheckpointNanos >= c.interval().toNanos();
        return done % c.everyRounds() == 0 || byTime || done == settings.spec().federation().rounds();
    }

    /**
     * The snapshots are in: the next round starts at once (they are copies); the job's end waits
     * for the last write.
     */
    private Behavior<Command> onCollector(CheckpointCollector.Reply reply) {
        if (reply instanceof CheckpointCollector.Gathered g) {
            if (g.roundsDone() < settings.spec().federation().rounds()) {
                next(g.roundsDone());
            }
            return this;
        }
        CheckpointCollector.Written w = (CheckpointCollector.Written) reply;
        if (w.error() != null) {
            getContext().getLog().error("checkpoint after round {} could not be written: {}; training goes on, the previous checkpoint stays",
                    w.roundsDone(), w.error().toString());
        } else {
            getContext().getLog().info("checkpoint after round {} written to {}", w.roundsDone(), w.file());
            emit(new JobEvent.Checkpointed(w.roundsDone(), w.file().toString()));
        }
        return w.roundsDone() >= settings.spec().federation().rounds() ? finish() : this;
    }

    private void emit(JobEvent e) {
        if (settings.listener() != null) {
            settings.listener().tell(e);
        }
    }
}
