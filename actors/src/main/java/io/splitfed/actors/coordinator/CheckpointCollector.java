package io.splitfed.actors.coordinator;

import io.splitfed.actors.checkpoint.Checkpoints;
import io.splitfed.actors.checkpoint.DeviceSnapshot;
import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.server.ShardSnapshot;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.Outbox;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * The coordinator's child that takes a checkpoint between rounds: asks every shard and every
 * device still here for its snapshot, tells the coordinator once all have answered (or at the
 * gather timeout, without the silent ones), and writes the file off the actor's thread. Devices
 * that sent no snapshot this time keep the one they sent last.
 */
final class CheckpointCollector extends AbstractBehavior<CheckpointCollector.Command> {

    sealed interface Command {}

    /**
     * Collect snapshots for {@code base}, a checkpoint with everything but the shards' and
     * devices' state, from {@code shards} and {@code devices}.
     */
    record Collect(JobCheckpoint base, List<ActorRef<ServerShard.Command>> shards, Map<Integer, ActorRef<DeviceActor.Command>> devices)
            implements Command, NoSerializationVerificationNeeded {}

    /** What the collector tells the coordinator. */
    sealed interface Reply {}

    /** Every snapshot is in (or the timeout passed): the next round may start. */
    record Gathered(int roundsDone) implements Reply {}

    /** The checkpoint after {@code roundsDone} rounds is on disk in {@code file}, or failed with {@code error}. */
    record Written(int roundsDone, Path file, Throwable error) implements Reply {}

    private record FromShard(ServerShard.Report report) implements Command, NoSerializationVerificationNeeded {}

    private record FromDevice(DeviceActor.Report report) implements Command, NoSerializationVerificationNeeded {}

    private record DeviceLeft(int device) implements Command, NoSerializationVerificationNeeded {}

    private record TimedOut(int roundsDone) implements Command, NoSerializationVerificationNeeded {}

    private record FileDone(int roundsDone, Path file, Throwable error) implements Command, NoSerializationVerificationNeeded {}

    private static final Inbound.Adapter<ServerShard.Report, Command> SHARD_REPORTS = Inbound.adapt(ServerShard.Report.class, FromShard::new);

    private static final Inbound.Adapter<DeviceActor.Report, Command> DEVICE_REPORTS = Inbound.adapt(DeviceActor.Report.class, FromDevice::new);

    static Behavior<Command> create(JobSpec.Checkpointing settings, Map<Integer, DeviceSnapshot> resumed, ActorRef<Reply> replyTo) {
        return Inbound.receiving(Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new CheckpointCollector(ctx, timers, settings, resumed, replyTo))),
                SHARD_REPORTS, DEVICE_REPORTS);
    }

    private final TimerScheduler<Command> timers;
    private final JobSpec.Checkpointing settings;
    private final ActorRef<Reply> replyTo;
    private final Map<Integer, DeviceSnapshot> devices = new LinkedHashMap<>();
    private final Map<Integer, ShardSnapshot> shards = new LinkedHashMap<>();
    private final TreeSet<Integer> missingShards = new TreeSet<>();
    private final TreeSet<Integer> missingDevices = new TreeSet<>();
    private final Outbox outbox;
    private JobCheckpoint base;

    private CheckpointCollector(ActorContext<Command> ctx, TimerScheduler<Command> timers, JobSpec.Checkpointing settings,
            Map<Integer, DeviceSnapshot> resumed, ActorRef<Reply> replyTo) {
        super(ctx);
        this.outbox = Outbox.get(ctx.getSystem());
        this.timers = timers;
        this.settings = settings;
        this.replyTo = replyTo;
        devices.putAll(resumed);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Collect.class, this::onCollect)
                .onMessage(FromShard.class, m -> {
                    if (m.report() instanceof ServerShard.Checkpointed c && collecting(c.roundsDone())) {
                        shards.put(c.snapshot().shard(), c.snapshot());
                        missingShards.remove(c.snapshot().shard());
                        maybeComplete();
                    }
                    return this;
                })
                .onMessage(FromDevice.class, m -> {
                    if (m.report() instanceof DeviceActor.Checkpointed c && collecting(c.roundsDone())) {
                        devices.put(c.snapshot().device(), c.snapshot());
                        missingDevices.remove(c.snapshot().device());
                        maybeComplete();
                    }
                    return this;
                })
                .onMessage(DeviceLeft.class, m -> {
                    if (base != null && missingDevices.remove(m.device())) {
                        maybeComplete();
                    }
                    return this;
                })
                .onMessage(TimedOut.class, m -> {
                    if (collecting(m.roundsDone())) {
                        getContext().getLog().warn("checkpoint after round {}: no snapshot from shards {} or devices {} within {}; written without them",
                                m.roundsDone(), missingShards, missingDevices, settings.gatherTimeout());
                        complete();
                    }
                    return this;
                })
                .onMessage(FileDone.class, m -> {
                    if (m.error() != null) {
                        getContext().getLog().error("checkpoint after round {} could not be written: {}; training goes on, the previous checkpoint stays",
                                m.roundsDone(), m.error().toString());
                    } else {
                        getContext().getLog().info("checkpoint after round {} written to {}", m.roundsDone(), m.file());
                    }
                    outbox.send(replyTo, new Written(m.roundsDone(), m.file(), m.error()));
                    return this;
                })
                .build();
    }

    /** Whether a checkpoint is due, at {@code nowNanos}, after {@code done} of {@code rounds} rounds, the last one taken at {@code lastNanos}. */
    static boolean due(JobSpec.Checkpointing c, int done, int rounds, long lastNanos, long nowNanos) {
        if (!c.enabled()) {
            return false;
        }
        boolean byTime = !c.interval().isZero() && nowNanos - lastNanos >= c.interval().toNanos();
        return done % c.everyRounds() == 0 || byTime || done == rounds;
    }

    private boolean collecting(int roundsDone) {
        return base != null && base.roundsDone() == roundsDone;
    }

    private Behavior<Command> onCollect(Collect m) {
        base = m.base();
        int done = base.roundsDone();
        shards.clear();
        missingShards.clear();
        missingDevices.clear();
        var self = getContext().getSelf();
        for (int s = 0; s < m.shards().size(); s++) {
            missingShards.add(s);
            outbox.send(m.shards().get(s), new ServerShard.TakeCheckpoint(done, SHARD_REPORTS.replyTo(self)));
        }
        m.devices().forEach((d, ref) -> {
            missingDevices.add(d);
            getContext().watchWith(ref, new DeviceLeft(d));
            outbox.send(ref, new DeviceActor.TakeCheckpoint(done, DEVICE_REPORTS.replyTo(self)));
        });
        timers.startSingleTimer(new TimedOut(done), settings.gatherTimeout());
        maybeComplete();
        return this;
    }

    private void maybeComplete() {
        if (base != null && missingShards.isEmpty() && missingDevices.isEmpty()) {
            complete();
        }
    }

    /** Tells the coordinator the snapshots are in, and writes the file on the blocking dispatcher. */
    private void complete() {
        JobCheckpoint cp = new JobCheckpoint(base.roundsDone(), base.globalDevice(), base.globalServer(), new LinkedHashMap<>(shards),
                new LinkedHashMap<>(devices), new ArrayList<>(base.rounds()), base.gone(), base.quarantined());
        int done = cp.roundsDone();
        base = null;
        timers.cancelAll();
        outbox.send(replyTo, new Gathered(done));
        var system = getContext().getSystem();
        var blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
        CompletableFuture<Path> write = CompletableFuture.supplyAsync(() -> Checkpoints.write(system, settings.dir(), cp, settings.job(), settings.keep()), blocking);
        getContext().pipeToSelf(write, (file, err) -> new FileDone(done, file, err));
    }
}
