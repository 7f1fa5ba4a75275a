package io.splitfed.actors.coordinator;

import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.aggregator.WeightedUpdate;
import io.splitfed.actors.checkpoint.Checkpoints;
import io.splitfed.actors.checkpoint.DeviceSnapshot;
import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.plan.RoundPlan;
import io.splitfed.actors.plan.RoundPlanner;
import io.splitfed.actors.plan.StaticPlanner;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.server.ShardSnapshot;
import io.splitfed.actors.wire.ChunkPart;
import io.splitfed.actors.wire.Reassembler;
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
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Runs the rounds: samples devices, starts them with the global adapter, watches who is done,
 * late or gone, closes the round when everyone sampled has answered or at its deadline, has the
 * shards report and the aggregator combine, scores the result, and starts the next round.
 */
public final class RoundCoordinator extends AbstractBehavior<RoundCoordinator.Command> {

    /** What the coordinator understands. */
    public sealed interface Command extends WireMessage {}

    /** A piece of a message too large for one frame (cluster only); see {@link Wire}. */
    public record Part(ChunkPart chunk) implements Command {}

    /** Begin the first round. */
    public enum Start implements Command { INSTANCE }

    /**
     * A device answered a micro-batch (for progress reporting): its round so far, the bytes it sent
     * and received this round, its micro-batches in flight, and the loss of its last local step
     * (NaN where the server computes the loss).
     */
    public record DeviceProgress(int device, int round, int answered, int steps, int samples, long bytesUp, long bytesDown, int inFlight,
            float loss) implements Command {}

    /** A shard's load, answering {@link ServerShard.ReportLoad}. */
    public record ShardLoad(int shard, int queued, long steps, float loss) implements Command {}

    /**
     * A device finished its round; {@code update} is its adapter (null in SplitFrozen), {@code from}
     * the device's actor (a result from any other is refused).
     */
    public record DeviceDone(int device, int round, DeviceRoundStats stats, LoraAdapter update, ActorRef<DeviceActor.Command> from)
            implements Command {}

    /** A shard's report of a closed round, with its adapter replicas and their sample weights. */
    public record ShardClosed(ShardRoundReport report, Map<Integer, LoraAdapter> replicas, Map<Integer, Double> weights) implements Command {}

    /** The aggregator's answer; a null side had nothing to combine. */
    public record Aggregated(int round, LoraAdapter deviceGlobal, LoraAdapter serverGlobal, List<String> notes) implements Command {}

    /** A shard's snapshot for the checkpoint after {@code roundsDone} rounds. */
    public record ShardCheckpointed(int roundsDone, ShardSnapshot snapshot) implements Command {}

    /** A device's snapshot for the checkpoint after {@code roundsDone} rounds. */
    public record DeviceCheckpointed(int roundsDone, DeviceSnapshot snapshot) implements Command {}

    /**
     * Shard {@code shard} lost its node and runs again as {@code ref}, from the state it had when
     * the round began: its devices run the round again, so everything they send is trained once.
     */
    public record ShardReplaced(int shard, ActorRef<ServerShard.Command> ref) implements Command {}

    /** A device's compute profile, taken when it joined. */
    public record DeviceProfiled(DeviceProfile profile) implements Command {}

    /** A stopped device is back (with its state); it is sampled again from the next round. */
    public record DeviceRejoined(int device, ActorRef<DeviceActor.Command> ref) implements Command {}

    private record DeviceTerminated(int device, ActorRef<DeviceActor.Command> ref) implements Command, NoSerializationVerificationNeeded {}

    private enum ProfilesDue implements Command, NoSerializationVerificationNeeded { INSTANCE }

    private record CheckpointDue(int roundsDone) implements Command, NoSerializationVerificationNeeded {}

    private record CheckpointWritten(int roundsDone, java.nio.file.Path file, Throwable error) implements Command, NoSerializationVerificationNeeded {}

    private record Deadline(int round) implements Command, NoSerializationVerificationNeeded {}

    private enum LoadDue implements Command, NoSerializationVerificationNeeded { INSTANCE }

    /** How often the shards are asked for their load while someone watches the job. */
    private static final java.time.Duration LOAD_INTERVAL = java.time.Duration.ofSeconds(1);

    private record Evaluated(int round, Evaluation.Result result, Throwable error) implements Command, NoSerializationVerificationNeeded {}

    private enum DeviceStatus { RUNNING, DONE, LATE, GONE }

    public static Behavior<Command> create(CoordinatorSettings settings) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RoundCoordinator(ctx, timers, settings)));
    }

    private final Reassembler reassembler = new Reassembler(getContext().getSystem());
    private final CoordinatorSettings settings;
    private final Map<Integer, ActorRef<DeviceActor.Command>> devices;
    private final List<ActorRef<ServerShard.Command>> shards;
    private final TimerScheduler<Command> timers;
    private final Set<Integer> gone = new TreeSet<>();
    private final List<RoundSummary> summaries = new ArrayList<>();
    private final List<DeviceRoundStats> deviceStats = new ArrayList<>();
    private final List<ShardRoundReport> shardReports = new ArrayList<>();
    private final long jobStart = System.nanoTime();
    private final RoundPlanner planner;
    private final StaticPlanner staticPlanner;
    private final Map<Integer, DeviceProfile> profiles = new LinkedHashMap<>();
    private final Set<Integer> awaitingProfiles = new TreeSet<>();
    private RoundPlan plan;
    private final Map<Integer, Integer> steps = new LinkedHashMap<>();
    private double trainSeconds;
    private final int firstRound;
    private int checkpointing = -1;
    private long lastCheckpointNanos = System.nanoTime();
    private final Map<Integer, ShardSnapshot> shardSnapshots = new LinkedHashMap<>();
    private final Map<Integer, DeviceSnapshot> deviceSnapshots = new LinkedHashMap<>();
    private LoraAdapter globalDevice;
    private LoraAdapter globalServer;
    private final DeviceBench bench;
    /** Asynchronous rounds: devices still working on a round that closed without them. */
    private final Map<Integer, Integer> busy = new java.util.TreeMap<>(); // device -> the round it is still working on
    /** Asynchronous rounds: updates that arrived after their round, with the round they trained for. */
    private final List<LateUpdate> lateUpdates = new ArrayList<>();
    private int lateApplied;

    private record LateUpdate(int device, int round, LoraAdapter update, int samples) {}

    private int round = -1;
    private final Map<Integer, DeviceStatus> status = new LinkedHashMap<>();
    private final Map<Integer, LoraAdapter> updates = new LinkedHashMap<>();
    private final Map<Integer, DeviceRoundStats> roundStats = new LinkedHashMap<>();
    private final Map<Integer, ShardClosed> shardClosed = new LinkedHashMap<>();
    private final Map<Integer, Integer> answered = new LinkedHashMap<>();
    private final java.util.ArrayDeque<Integer> turns = new java.util.ArrayDeque<>();
    private long roundMicroBatches;
    private long roundSamples;
    private boolean closing;
    private boolean closedByDeadline;
    private long roundStart;

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
            deviceSnapshots.putAll(resume.devices());
            context.getLog().info("resuming from the checkpoint after round {}", resume.roundsDone());
        }
        this.bench = new DeviceBench(settings.spec().robustness(), context.getLog(), resume != null ? resume.quarantined() : Map.of());
        this.devices = new LinkedHashMap<>(settings.devices());
        this.shards = new ArrayList<>(settings.shards());
        this.staticPlanner = new StaticPlanner(settings.spec(), settings.layers());
        this.planner = settings.planner() != null ? settings.planner() : staticPlanner;
        devices.forEach((id, ref) -> context.watchWith(ref, new DeviceTerminated(id, ref)));
        if (settings.listener() != null && !shards.isEmpty()) {
            timers.startTimerWithFixedDelay("load", LoadDue.INSTANCE, LOAD_INTERVAL);
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Part.class, p -> reassembler.handle(p.chunk(), this, getContext()))
                .onMessageEquals(Start.INSTANCE, this::onStart)
                .onMessage(DeviceProfiled.class, this::onProfiled)
                .onMessageEquals(ProfilesDue.INSTANCE, () -> {
                    if (round < 0) {
                        getContext().getLog().warn("devices {} sent no profile within {}; starting without them", awaitingProfiles,
                                settings.spec().planning().profileTimeout());
                        begin();
                    }
                    return this;
                })
                .onMessage(ShardCheckpointed.class, this::onShardCheckpointed)
                .onMessage(DeviceCheckpointed.class, this::onDeviceCheckpointed)
                .onMessage(CheckpointDue.class, m -> {
                    if (m.roundsDone() == checkpointing) {
                        getContext().getLog().warn("checkpoint after round {}: no snapshot from shards {} or devices {} in time; written without them",
                                m.roundsDone(), missingShards(), missingDevices());
                        completeCheckpoint();
                    }
                    return this;
                })
                .onMessage(CheckpointWritten.class, this::onCheckpointWritten)
                .onMessage(WaitOver.class, m -> {
                    if (m.round() == waitingToStart) {
                        startWaitingRound(); // with whoever is free
                    }
                    return this;
                })
                .onMessage(DeviceProgress.class, this::onProgress)
                .onMessage(LoadDue.class, m -> {
                    shards.forEach(s -> s.tell(new ServerShard.ReportLoad(getContext().getSelf())));
                    return this;
                })
                .onMessage(ShardLoad.class, m -> {
                    emit(new JobEvent.ShardLoad(m.shard(), m.queued(), m.steps(), m.loss()));
                    return this;
                })
                .onMessage(DeviceDone.class, this::onDeviceDone)
                .onMessage(DeviceTerminated.class, this::onTerminated)
                .onMessage(DeviceRejoined.class, this::onRejoined)
                .onMessage(ShardReplaced.class, this::onShardReplaced)
                .onMessage(Deadline.class, this::onDeadline)
                .onMessage(ShardClosed.class, this::onShardClosed)
                .onMessage(Aggregated.class, this::onAggregated)
                .onMessage(Evaluated.class, this::onEvaluated)
                .build();
    }

    /** Has every device profile itself, and starts the first round when all have (or at the timeout). */
    private Behavior<Command> onStart() {
        if (round >= 0 || !awaitingProfiles.isEmpty()) {
            return this;
        }
        if (settings.resume() != null) {
            // ahead of everything else this coordinator sends them, so it arrives first
            settings.resume().devices().forEach((d, snap) -> {
                if (devices.containsKey(d)) {
                    Wire.tell(getContext().getSystem(), devices.get(d), new DeviceActor.Resume(snap), DeviceActor.Part::new);
                }
            });
        }
        awaitingProfiles.addAll(devices.keySet());
        devices.forEach((d, ref) -> ref.tell(new DeviceActor.Profile(settings.stepsPerRound().get(d), getContext().getSelf())));
        timers.startSingleTimer("profiles", ProfilesDue.INSTANCE, settings.spec().planning().profileTimeout());
        return this;
    }

    private Behavior<Command> onProfiled(DeviceProfiled m) {
        profiles.put(m.profile().device(), m.profile());
        if (awaitingProfiles.remove(m.profile().device()) && awaitingProfiles.isEmpty() && round < 0) {
            timers.cancel("profiles");
            begin();
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

    private void emit(JobEvent e) {
        if (settings.listener() != null) {
            settings.listener().tell(e);
        }
    }

    private void startRound(int r) {
        round = r;
        closing = false;
        closedByDeadline = false;
        status.clear();
        updates.clear();
        roundStats.clear();
        shardClosed.clear();
        answered.clear();
        roundSamples = 0;
        lateApplied = 0;
        roundStart = System.nanoTime();
        trainSeconds = Double.NaN;
        List<Integer> sampled = sample(r);
        plan = plan(r, sampled);
        steps.clear();
        int jobMicroBatch = settings.spec().training().microBatch();
        for (int d : sampled) {
            // the same samples per round at whatever micro-batch size the plan gives
            int samples = settings.stepsPerRound().get(d) * jobMicroBatch;
            steps.put(d, (int) Math.ceil((double) samples / plan.of(d).microBatch()));
        }
        roundMicroBatches = steps.values().stream().mapToLong(Integer::longValue).sum();
        for (ActorRef<ServerShard.Command> shard : shards) {
            shard.tell(new ServerShard.RoundStarted(r));
        }
        turns.clear();
        for (int d : sampled) {
            status.put(d, DeviceStatus.RUNNING);
            if (takesTurns()) {
                turns.add(d);
            } else {
                startDevice(d);
            }
        }
        if (takesTurns()) {
            nextTurn();
        }
        timers.startSingleTimer("deadline", new Deadline(r), settings.spec().federation().roundDeadline());
        getContext().getLog().info("round {}/{} started with devices {}", r + 1, settings.spec().federation().rounds(), sampled);
        emit(new JobEvent.RoundStarted(r, settings.spec().federation().rounds(), sampled, roundMicroBatches));
        if (sampled.isEmpty()) {
            closeRound(false);
        }
    }

    /** The planner's plan for the round; the job's settings when the planner fails or leaves a device out. */
    private RoundPlan plan(int r, List<Integer> sampled) {
        try {
            RoundPlan p = planner.plan(r, sampled, Map.copyOf(profiles));
            for (int d : sampled) {
                p.of(d);
            }
            if (!Double.isNaN(p.predictedSeconds())) {
                getContext().getLog().info("round {} plan ({}): predicted {} s, {} J; {}", r + 1, p.planner(),
                        String.format("%.2f", p.predictedSeconds()), String.format("%.3g", p.predictedJoules()), p.devices());
            }
            return p;
        } catch (RuntimeException e) {
            getContext().getLog().error("round {}: the planner failed ({}); running the job's settings", r + 1, e.toString());
            return staticPlanner.plan(r, sampled, Map.of());
        }
    }

    /**
     * SplitLoRA (SFL with one shared server adapter): devices train against the server one after
     * another. Everyone else streams in parallel.
     */
    private boolean takesTurns() {
        var spec = settings.spec();
        return spec.mode() == io.splitfed.actors.job.TrainingMode.SFL && !spec.server().perDeviceReplicas();
    }

    private void startDevice(int d) {
        ActorRef<ServerShard.Command> shard = shards.isEmpty() ? null : shards.get(settings.shardOf().get(d));
        Wire.tell(getContext().getSystem(), devices.get(d), new DeviceActor.StartRound(round, steps.get(d), globalDevice, shard, getContext().getSelf(),
                plan.of(d)), DeviceActor.Part::new);
    }

    /** Starts the next device whose turn it is and that is still running. */
    private void nextTurn() {
        while (!turns.isEmpty()) {
            int d = turns.poll();
            if (status.get(d) == DeviceStatus.RUNNING) {
                startDevice(d);
                return;
            }
        }
    }

    /** A seeded share of the devices still reachable, at least {@code min-devices} of them. */
    private List<Integer> sample(int r) {
        List<Integer> alive = new ArrayList<>();
        for (int d : devices.keySet()) {
            if (canSample(d, r)) {
                alive.add(d);
            }
        }
        var f = settings.spec().federation();
        int want = (int) Math.ceil(f.sampleFraction() * settings.devices().size());
        want = Math.min(alive.size(), Math.max(want, Math.min(f.minDevices(), alive.size())));
        java.util.Collections.shuffle(alive, new Random(settings.spec().seed() * 1_000_003L + r));
        List<Integer> out = new ArrayList<>(alive.subList(0, want));
        out.sort(null);
        return out;
    }

    private Behavior<Command> onProgress(DeviceProgress p) {
        if (p.round() == round && !closing) {
            answered.put(p.device(), p.answered());
            roundSamples += p.samples();
            long done = answered.values().stream().mapToLong(Integer::longValue).sum();
            emit(new JobEvent.Progress(round, done, roundMicroBatches, roundSamples, p.device(), p.answered(), p.steps(), p.bytesUp(),
                    p.bytesDown(), p.inFlight(), p.loss()));
        }
        return this;
    }

    private Behavior<Command> onDeviceDone(DeviceDone m) {
        if (!devices.containsKey(m.device())) {
            getContext().getLog().warn("a round result claims to come from device {}, which is not in the job; refused", m.device());
            return this;
        }
        if (!devices.get(m.device()).equals(m.from())) {
            getContext().getLog().warn("a round result for device {} (round {}) did not come from the device's actor ({}); refused",
                    m.device(), m.round() + 1, m.from());
            return this; // no strike: a forger must not get an honest device quarantined
        }
        if (m.update() != null) {
            String problem = UpdateCheck.problem(m.update(), globalDevice);
            if (problem != null) {
                getContext().getLog().warn("device {}: adapter update for round {} refused: {}", m.device(), m.round() + 1, problem);
                bench.strike(m.device());
                return this;
            }
        }
        if (settings.spec().robustness().asynchronous() && busy.containsKey(m.device()) && m.round() <= round) {
            busy.remove(m.device());
            lateApplied++;
            deviceStats.add(m.stats());
            if (m.update() != null) {
                lateUpdates.add(new LateUpdate(m.device(), m.round(), m.update(), m.stats().samples()));
            }
            getContext().getLog().info("device {}: late result for round {} arrived in round {}; applied{}", m.device(), m.round() + 1, round + 1,
                    m.update() != null ? " at the next aggregation with a staleness weight" : " (its micro-batches were trained as they came)");
            if (waitingToStart >= 0 && available(waitingToStart) >= settings.spec().federation().minDevices()) {
                startWaitingRound();
            }
            return this;
        }
        if (m.round() != round || status.get(m.device()) != DeviceStatus.RUNNING || closing) {
            getContext().getLog().info("device {}: result for round {} arrived after it closed; not used", m.device(), m.round() + 1);
            return this;
        }
        status.put(m.device(), DeviceStatus.DONE);
        roundStats.put(m.device(), m.stats());
        if (m.update() != null) {
            updates.put(m.device(), m.update());
        }
        if (takesTurns()) {
            nextTurn();
        }
        maybeClose();
        return this;
    }

    private Behavior<Command> onTerminated(DeviceTerminated m) {
        if (!m.ref().equals(devices.get(m.device()))) {
            return this; // an incarnation the device has already replaced by rejoining
        }
        gone.add(m.device());
        busy.remove(m.device()); // its late work died with it
        if (status.get(m.device()) == DeviceStatus.RUNNING && !closing) {
            getContext().getLog().warn("device {} is gone; round {} goes on without it", m.device(), round);
            status.put(m.device(), DeviceStatus.GONE);
            if (takesTurns() && !turns.contains(m.device())) {
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
        for (Map.Entry<Integer, DeviceStatus> e : status.entrySet()) {
            int d = e.getKey();
            if (settings.shardOf().get(d) == m.shard() && (e.getValue() == DeviceStatus.RUNNING || e.getValue() == DeviceStatus.DONE)) {
                status.put(d, DeviceStatus.RUNNING);
                roundStats.remove(d);
                updates.remove(d);
                answered.remove(d);
                Wire.tell(getContext().getSystem(), devices.get(d), new DeviceActor.Rewind(round, m.ref(), globalDevice, true), DeviceActor.Part::new);
            }
        }
        // late devices of this shard run their own round again too (its global adapter is gone: they keep theirs)
        busy.forEach((d, theirs) -> {
            if (settings.shardOf().get(d) == m.shard()) {
                Wire.tell(getContext().getSystem(), devices.get(d), new DeviceActor.Rewind(theirs, m.ref(), null, false), DeviceActor.Part::new);
            }
        });
        if (closing && !shardClosed.containsKey(m.shard())) {
            m.ref().tell(new ServerShard.CloseRound(round, getContext().getSelf()));
        }
        return this;
    }

    private Behavior<Command> onRejoined(DeviceRejoined m) {
        devices.put(m.device(), m.ref());
        gone.remove(m.device());
        busy.remove(m.device());
        getContext().watchWith(m.ref(), new DeviceTerminated(m.device(), m.ref()));
        m.ref().tell(new DeviceActor.Profile(settings.stepsPerRound().get(m.device()), getContext().getSelf()));
        getContext().getLog().info("device {} rejoined; it is sampled from the next round", m.device());
        return this;
    }

    private void maybeClose() {
        if (!closing && status.values().stream().noneMatch(s -> s == DeviceStatus.RUNNING)) {
            closeRound(false);
        }
    }

    private Behavior<Command> onDeadline(Deadline m) {
        if (m.round() == round && !closing) {
            List<Integer> late = new ArrayList<>();
            status.forEach((d, s) -> {
                if (s == DeviceStatus.RUNNING) {
                    late.add(d);
                }
            });
            getContext().getLog().warn("round {} reached its deadline; closing without late devices {}", round, late);
            for (int d : late) {
                status.put(d, DeviceStatus.LATE);
                if (settings.spec().robustness().asynchronous()) {
                    busy.put(d, round); // it goes on; what it sends is applied when it arrives
                } else {
                    devices.get(d).tell(new DeviceActor.AbortRound(round));
                }
            }
            closeRound(true);
        }
        return this;
    }

    private void closeRound(boolean byDeadline) {
        closing = true;
        closedByDeadline = byDeadline;
        trainSeconds = (System.nanoTime() - roundStart) / 1e9;
        timers.cancel("deadline");
        if (shards.isEmpty()) {
            aggregate();
            return;
        }
        for (ActorRef<ServerShard.Command> shard : shards) {
            shard.tell(new ServerShard.CloseRound(round, getContext().getSelf()));
        }
    }

    private Behavior<Command> onShardClosed(ShardClosed m) {
        if (m.report().round() != round) {
            return this;
        }
        shardClosed.put(m.report().shard(), m);
        if (shardClosed.size() == shards.size()) {
            aggregate();
        }
        return this;
    }

    private void aggregate() {
        List<WeightedUpdate> device = new ArrayList<>();
        updates.forEach((d, u) -> device.add(new WeightedUpdate(d, u, roundStats.get(d).samples())));
        double a = settings.spec().robustness().stalenessExponent();
        for (LateUpdate late : lateUpdates) {
            int staleness = Math.max(1, round - late.round());
            device.add(new WeightedUpdate(late.device(), late.update(), late.samples() / Math.pow(1 + staleness, a)));
        }
        lateUpdates.clear();
        UpdateCheck.outliers(device, globalDevice, settings.spec().robustness().normOutlierFactor()).forEach((d, why) -> {
            getContext().getLog().warn("device {}: adapter update for round {} refused: {}", d, round + 1, why);
            bench.strike(d);
            device.removeIf(u -> u.source() == d);
        });
        List<WeightedUpdate> server = new ArrayList<>();
        shardClosed.values().forEach(sc -> sc.replicas().forEach((key, adapter) ->
                server.add(new WeightedUpdate(key, adapter, sc.weights().getOrDefault(key, 0.0)))));
        int done = (int) status.values().stream().filter(s -> s == DeviceStatus.DONE).count();
        if (done < settings.spec().federation().minDevices()) {
            getContext().getLog().warn("round {}: {} devices finished, fewer than min-devices {}; the global adapters stay as they were",
                    round, done, settings.spec().federation().minDevices());
            getContext().getSelf().tell(new Aggregated(round, null, null, List.of("too few devices")));
            return;
        }
        Wire.tell(getContext().getSystem(), settings.aggregator(), new Aggregator.Aggregate(round, device, server, getContext().getSelf()), Aggregator.Part::new);
    }

    private Behavior<Command> onAggregated(Aggregated m) {
        if (m.round() != round) {
            return this;
        }
        if (m.deviceGlobal() != null) {
            globalDevice = m.deviceGlobal();
        }
        if (m.serverGlobal() != null) {
            globalServer = m.serverGlobal();
            long replicas = shardClosed.values().stream().mapToLong(sc -> sc.replicas().size()).sum();
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

    private Behavior<Command> onEvaluated(Evaluated m) {
        if (m.round() != round) {
            return this;
        }
        if (m.error() != null) {
            getContext().getLog().error("round {}: evaluation failed", round, m.error());
        }
        Evaluation.Result eval = m.result() == null ? new Evaluation.Result(Double.NaN, Double.NaN, 0) : m.result();
        List<Integer> sampled = new ArrayList<>(status.keySet());
        List<Integer> done = new ArrayList<>();
        List<Integer> late = new ArrayList<>();
        List<Integer> goneNow = new ArrayList<>();
        status.forEach((d, s) -> {
            switch (s) {
                case DONE -> done.add(d);
                case LATE -> late.add(d);
                case GONE -> goneNow.add(d);
                default -> { }
            }
        });
        List<StepLoss> losses = new ArrayList<>();
        shardClosed.values().forEach(sc -> losses.addAll(sc.report().losses()));
        roundStats.values().forEach(s -> losses.addAll(s.localLosses()));
        double trainLoss = losses.stream().mapToDouble(StepLoss::loss).average().orElse(Double.NaN);
        long samples = roundStats.values().stream().mapToLong(DeviceRoundStats::samples).sum();
        shardClosed.values().forEach(sc -> bench.strikes(sc.report().strikes()));
        List<Integer> failed = new ArrayList<>(late);
        failed.addAll(goneNow);
        List<Integer> benched = bench.endRound(round, devices.keySet(), failed, done);
        RoundSummary summary = new RoundSummary(round, sampled, done, late, goneNow, closedByDeadline, !done.isEmpty(),
                eval.accuracy(), eval.loss(), trainLoss, samples, (System.nanoTime() - roundStart) / 1e9, trainSeconds, plan.predictedSeconds(), benched, lateApplied);
        try {
            planner.observe(round, roundStats.values(), shardClosed.values().stream().map(ShardClosed::report).toList());
        } catch (RuntimeException e) {
            getContext().getLog().error("round {}: the planner could not take in the round's timings ({})", round + 1, e.toString());
        }
        summaries.add(summary);
        deviceStats.addAll(roundStats.values());
        shardClosed.values().forEach(sc -> shardReports.add(sc.report()));
        getContext().getLog().info("round {} closed: accuracy {} eval loss {} train loss {} ({} samples, {}s{})", round + 1,
                String.format("%.4f", eval.accuracy()), String.format("%.4f", eval.loss()), String.format("%.4f", trainLoss), samples,
                String.format("%.1f", summary.seconds()), closedByDeadline ? ", by deadline" : "");
        emit(new JobEvent.RoundClosed(summary));
        int roundsDone = round + 1;
        if (checkpointDue(roundsDone)) {
            beginCheckpoint(roundsDone);
            return this;
        }
        return next(roundsDone);
    }

    /** After {@code done} rounds: the next round, or the end of the job. */
    private Behavior<Command> next(int done) {
        if (done < settings.spec().federation().rounds()) {
            int free = available(done);
            if (settings.spec().robustness().asynchronous() && free < settings.spec().federation().minDevices() && !busy.isEmpty()) {
                // every device still at work on an earlier round: wait for results rather than run an empty round
                waitingToStart = done;
                getContext().getLog().info("round {} waits for late devices {} ({} free, min-devices {})", done + 1, busy.keySet(), free,
                        settings.spec().federation().minDevices());
                timers.startSingleTimer("wait", new WaitOver(done), settings.spec().federation().roundDeadline());
                return this;
            }
            startRound(done);
            return this;
        }
        return finish();
    }

    private int waitingToStart = -1;

    private record WaitOver(int round) implements Command, NoSerializationVerificationNeeded {}

    /** Devices that could be sampled in round {@code r}. */
    private int available(int r) {
        return (int) devices.keySet().stream().filter(d -> canSample(d, r)).count();
    }

    /** Here, not still at work on an earlier round, and not benched. */
    private boolean canSample(int d, int r) {
        return !gone.contains(d) && !busy.containsKey(d) && !bench.sitsOut(d, r);
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

    private boolean checkpointDue(int done) {
        var c = settings.spec().checkpoint();
        if (!c.enabled()) {
            return false;
        }
        boolean byTime = !c.interval().isZero() && System.nanoTime() - lastCheckpointNanos >= c.interval().toNanos();
        return done % c.everyRounds() == 0 || byTime || done == settings.spec().federation().rounds();
    }

    /** Asks every shard and every device still here for its snapshot; the next round waits for them. */
    private void beginCheckpoint(int done) {
        checkpointing = done;
        shardSnapshots.clear();
        for (ActorRef<ServerShard.Command> shard : shards) {
            shard.tell(new ServerShard.TakeCheckpoint(done, getContext().getSelf()));
        }
        devices.forEach((d, ref) -> {
            if (!gone.contains(d)) {
                ref.tell(new DeviceActor.TakeCheckpoint(done, getContext().getSelf()));
            }
        });
        timers.startSingleTimer("checkpoint", new CheckpointDue(done), java.time.Duration.ofSeconds(60));
        maybeCompleteCheckpoint();
    }

    private Behavior<Command> onShardCheckpointed(ShardCheckpointed m) {
        if (m.roundsDone() == checkpointing) {
            shardSnapshots.put(m.snapshot().shard(), m.snapshot());
            maybeCompleteCheckpoint();
        }
        return this;
    }

    private Behavior<Command> onDeviceCheckpointed(DeviceCheckpointed m) {
        if (m.roundsDone() == checkpointing) {
            deviceSnapshots.put(m.snapshot().device(), m.snapshot());
            checkpointAnswered.add(m.snapshot().device());
            maybeCompleteCheckpoint();
        }
        return this;
    }

    private final Set<Integer> checkpointAnswered = new TreeSet<>();

    private List<Integer> missingShards() {
        List<Integer> out = new ArrayList<>();
        for (int s = 0; s < shards.size(); s++) {
            if (!shardSnapshots.containsKey(s)) {
                out.add(s);
            }
        }
        return out;
    }

    private List<Integer> missingDevices() {
        List<Integer> out = new ArrayList<>();
        for (int d : devices.keySet()) {
            if (!gone.contains(d) && !checkpointAnswered.contains(d)) {
                out.add(d);
            }
        }
        return out;
    }

    private void maybeCompleteCheckpoint() {
        if (checkpointing >= 0 && missingShards().isEmpty() && missingDevices().isEmpty()) {
            completeCheckpoint();
        }
    }

    /**
     * Writes the checkpoint off the actor's thread. The next round starts at once (the snapshots are
     * copies); the job's end waits for the last write.
     */
    private void completeCheckpoint() {
        int done = checkpointing;
        checkpointing = -1;
        checkpointAnswered.clear();
        timers.cancel("checkpoint");
        lastCheckpointNanos = System.nanoTime();
        var c = settings.spec().checkpoint();
        JobCheckpoint cp = new JobCheckpoint(done, globalDevice, globalServer, new LinkedHashMap<>(shardSnapshots), new LinkedHashMap<>(deviceSnapshots),
                new ArrayList<>(summaries), new TreeSet<>(gone), bench.snapshot());
        var system = getContext().getSystem();
        var blocking = system.dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking());
        CompletableFuture<java.nio.file.Path> write = CompletableFuture.supplyAsync(() -> Checkpoints.write(system, c.dir(), cp, c.keep()), blocking);
        getContext().pipeToSelf(write, (file, err) -> new CheckpointWritten(done, file, err));
        if (done < settings.spec().federation().rounds()) {
            next(done);
        }
    }

    private Behavior<Command> onCheckpointWritten(CheckpointWritten m) {
        if (m.error() != null) {
            getContext().getLog().error("checkpoint after round {} could not be written: {}; training goes on, the previous checkpoint stays",
                    m.roundsDone(), m.error().toString());
        } else {
            getContext().getLog().info("checkpoint after round {} written to {}", m.roundsDone(), m.file());
            emit(new JobEvent.Checkpointed(m.roundsDone(), m.file().toString()));
        }
        if (m.roundsDone() >= settings.spec().federation().rounds()) {
            return finish();
        }
        return this;
    }
}
