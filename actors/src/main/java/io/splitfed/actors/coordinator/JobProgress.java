package io.splitfed.actors.coordinator;

import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.Outbox;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Live progress, kept off the coordinator: devices send their {@link DeviceActor.Progress} here,
 * and the shards are polled for their load here, and both go to the job's listener as
 * {@link JobEvent}s. The coordinator only says when a round opens and closes, and where the shards
 * are. Spawned only when someone listens; without a listener, devices send no progress at all.
 */
final class JobProgress {

    private JobProgress() {}

    sealed interface Command extends NoSerializationVerificationNeeded {}

    /** Round {@code round} opened with {@code microBatches} to run in all, on {@code shards}. */
    record RoundOpened(int round, long microBatches, List<ActorRef<ServerShard.Command>> shards) implements Command {}

    /** The open round is closing: later progress for it is not counted. */
    record RoundClosing(int round) implements Command {}

    private record FromDevice(DeviceActor.Report report) implements Command {}

    private record FromShard(ServerShard.Report report) implements Command {}

    private enum Poll implements Command { INSTANCE }

    /** The devices' progress, as the relay takes it. */
    static final Inbound.Adapter<DeviceActor.Report, Command> DEVICE_REPORTS = Inbound.adapt(DeviceActor.Report.class, FromDevice::new);

    private static final Inbound.Adapter<ServerShard.Report, Command> SHARD_REPORTS = Inbound.adapt(ServerShard.Report.class, FromShard::new);

    static Behavior<Command> create(ActorRef<JobEvent> listener, Duration loadInterval) {
        return Inbound.receiving(Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Poll.INSTANCE, loadInterval);
            return new Relay(ctx, listener);
        })), DEVICE_REPORTS, SHARD_REPORTS);
    }

    private static final class Relay extends AbstractBehavior<Command> {

        private final ActorRef<JobEvent> listener;
        private final Outbox outbox;
        private final Map<Integer, Integer> answered = new LinkedHashMap<>();
        private final List<ActorRef<ServerShard.Command>> shards = new ArrayList<>();
        private int round = -1;
        private long microBatches;
        private long samples;
        private boolean closing;

        Relay(ActorContext<Command> ctx, ActorRef<JobEvent> listener) {
            super(ctx);
            this.outbox = Outbox.get(ctx.getSystem());
            this.listener = listener;
        }

        @Override
        public Receive<Command> createReceive() {
            return newReceiveBuilder()
                    .onMessage(RoundOpened.class, m -> {
                        round = m.round();
                        microBatches = m.microBatches();
                        samples = 0;
                        closing = false;
                        answered.clear();
                        shards.clear();
                        shards.addAll(m.shards());
                        return this;
                    })
                    .onMessage(RoundClosing.class, m -> {
                        closing |= m.round() == round;
                        return this;
                    })
                    .onMessage(FromDevice.class, m -> {
                        if (m.report() instanceof DeviceActor.Progress p && p.round() == round && !closing) {
                            answered.put(p.device(), p.answered());
                            samples += p.samples();
                            long done = answered.values().stream().mapToLong(Integer::longValue).sum();
                            outbox.send(listener, new JobEvent.Progress(p.round(), done, microBatches, samples, p.device(), p.answered(), p.steps(),
                                    p.bytesUp(), p.bytesDown(), p.inFlight(), p.loss()));
                        }
                        return this;
                    })
                    .onMessageEquals(Poll.INSTANCE, () -> {
                        shards.forEach(s -> outbox.send(s, new ServerShard.ReportLoad(SHARD_REPORTS.replyTo(getContext().getSelf()))));
                        return this;
                    })
                    .onMessage(FromShard.class, m -> {
                        if (m.report() instanceof ServerShard.Load l) {
                            outbox.send(listener, new JobEvent.ShardLoad(l.shard(), l.queued(), l.steps(), l.loss()));
                        }
                        return this;
                    })
                    .build();
        }
    }
}
