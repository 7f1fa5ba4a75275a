package io.splitfed.actors.device;

import io.splitfed.actors.checkpoint.DeviceSnapshot;
import io.splitfed.actors.job.TrainingMode;
import io.splitfed.actors.link.DelayLine;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.JobClock;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.Wire;
import io.splitfed.actors.wire.WireMessage;
import io.splitfed.actors.plan.DevicePlan;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;
import io.splitfed.model.tokenizer.SequenceEncoder;
import io.splitfed.model.train.SegmentLearner;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import io.splitfed.actors.job.Supervision;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * An edge device: holds its data shard and its part of the model, and streams micro-batches to
 * its server shard, keeping up to {@code window} in flight so it computes micro-batch i+1 while
 * the link carries i and the server trains i-1. In SplitFrozen it runs its frozen blocks forward
 * only (from the activation cache after the first epoch); in SFL it keeps each micro-batch's graph
 * until the cut gradient returns and steps its own adapter; in FedLoRA it trains the whole model
 * locally.
 */
public final class DeviceActor extends AbstractBehavior<DeviceActor.Command> {

    /** What a device understands. */
    public sealed interface Command extends WireMessage {}

    /**
     * Run {@code steps} micro-batches of {@code round} as {@code plan} says, starting from
     * {@code global} (null: keep yours).
     */
    public record StartRound(int round, int steps, LoraAdapter global, ActorRef<ServerShard.Command> shard,
            ActorRef<Report> coordinator, DevicePlan plan) implements Command {}

    /**
     * Its shard lost {@code round}'s work: run that round again from its first micro-batch, toward
     * {@code shard}, from {@code global} (null: keep yours); {@code evenIfDone}: also when the device
     * has finished it (the coordinator takes its result back).
     */
    public record Rewind(int round, ActorRef<ServerShard.Command> shard, LoraAdapter global, boolean evenIfDone) implements Command {}

    /**
     * Measure how fast this device computes, and tell {@code replyTo}, with the padded length of
     * the {@code steps} micro-batches it will run next.
     */
    public record Profile(int steps, ActorRef<Report> replyTo) implements Command {}

    /** Before the first round of a resumed job: go on from {@code snapshot}. */
    public record Resume(DeviceSnapshot snapshot) implements Command {}

    /** Between rounds: reply with what this device must keep across a restart, for the job's checkpoint. */
    public record TakeCheckpoint(int roundsDone, ActorRef<Report> replyTo) implements Command {}

    /** The round closed without this device (deadline): stop and drop what is in flight. */
    public record AbortRound(int round) implements Command {}

    /** What a device reports to the job's coordinator. */
    public sealed interface Report extends WireMessage {}

    /**
     * A micro-batch was answered (for progress reporting): the device's round so far, the bytes it
     * sent and received this round, its micro-batches in flight, and the loss of its last local
     * step (NaN where the server computes the loss).
     */
    public record Progress(int device, int round, int answered, int steps, int samples, long bytesUp, long bytesDown, int inFlight,
            float loss) implements Report {}

    /**
     * The device finished its round; {@code update} is its adapter (null in SplitFrozen), {@code from}
     * the device's actor (the coordinator refuses a result from any other).
     */
    public record RoundDone(int device, int round, DeviceRoundStats stats, LoraAdapter update, ActorRef<Command> from) implements Report {}

    /** The device's compute profile, answering {@link Profile}. */
    public record Profiled(DeviceProfile profile) implements Report {}

    /** The device's snapshot for the checkpoint after {@code roundsDone} rounds, answering {@link TakeCheckpoint}. */
    public record Checkpointed(int roundsDone, DeviceSnapshot snapshot) implements Report {}

    /** A shard's answer to a micro-batch, adapted. */
    private record FromShard(ServerShard.Reply reply) implements Command, NoSerializationVerificationNeeded {}

    private record Computed(int round, long seq, TokenBatch batch, TensorPayload activations, SegmentLearner.InFlight graph,
            double seconds, double flops, boolean cached) implements Command, NoSerializationVerificationNeeded {}

    private record Backpropagated(int round, long seq, int samples, double seconds, double flops) implements Command, NoSerializationVerificationNeeded {}

    private record LocalStep(int round, long seq, int samples, float loss, double seconds, double flops) implements Command, NoSerializationVerificationNeeded {}

    private record ProfileTaken(DeviceProfile profile, ActorRef<Report> replyTo, Throwable error)
            implements Command, NoSerializationVerificationNeeded {}

    private record ComputeFailed(int round, long seq, Throwable error) implements Command, NoSerializationVerificationNeeded {}

    private record Release(Command delayed) implements Command, NoSerializationVerificationNeeded {}

    /** The delay lines a device keeps: results held back by a slowdown, and the simulated uplink. */
    private enum Line { HELD, UPLINK }

    private record LineDue(Line line) implements Command, NoSerializationVerificationNeeded {}

    private enum ResendTick implements Command, NoSerializationVerificationNeeded { INSTANCE }

    /** Restarts on failure; {@code state} survives the restart. */
    public static Behavior<Command> create(DeviceState state) {
        return create(state, b -> b);
    }

    /** As {@link #create(DeviceState)}, with {@code inside} wrapped around the behavior within its supervisor (fault injection). */
    public static Behavior<Command> create(DeviceState state, UnaryOperator<Behavior<Command>> inside) {
        Behavior<Command> device = Behaviors.setup(ctx -> Behaviors.<Command>withTimers(timers -> new DeviceActor(ctx, timers, state)));
        return Inbound.receiving(Behaviors.supervise(inside.apply(device)).onFailure(Supervision.BACKOFF),
                Inbound.adapt(ServerShard.Reply.class, FromShard::new));
    }

    private final DeviceState state;
    private final TimerScheduler<Command> timers;
    private final TrainingMode mode;

    private DeviceActor(ActorContext<Command> context, TimerScheduler<Command> timers, DeviceState state) {
        super(context);
        this.state = state;
        this.timers = timers;
        this.mode = state.settings.mode();
        Duration ack = state.settings.spec().pipeline().ackTimeout();
        timers.startTimerWithFixedDelay(ResendTick.INSTANCE, ack.dividedBy(2));
        arm(Line.HELD, state.held);
        arm(Line.UPLINK, state.onUplink);
        if (state.active) {
            // restarted mid-round: the shard answers (never retrains) anything it already has
            state.pending.values().forEach(p -> resend(p.forward()));
            pump();
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StartRound.class, this::onStartRound)
                .onMessage(Rewind.class, this::onRewind)
                .onMessage(Profile.class, this::onProfile)
                .onMessage(TakeCheckpoint.class, this::onTakeCheckpoint)
                .onMessage(Resume.class, m -> {
                    if (!state.active) {
                        state.resumedFrom(m.snapshot());
                        getContext().getLog().info("device {}: resumed after round {}", state.settings.device(), m.snapshot().round() + 1);
                    }
                    return this;
                })
                .onMessage(ProfileTaken.class, this::onProfiled)
                .onMessage(FromShard.class, this::onShardReply)
                .onMessage(AbortRound.class, this::onAbort)
                .onMessage(Computed.class, this::onComputed)
                .onMessage(Backpropagated.class, this::onBackpropagated)
                .onMessage(LocalStep.class, this::onLocalStep)
                .onMessage(ComputeFailed.class, this::onComputeFailed)
                .onMessage(Release.class, r -> release(r.delayed()))
                .onMessage(LineDue.class, this::onLineDue)
                .onMessageEquals(ResendTick.INSTANCE, this::onResendTick)
                .build();
    }

    private Behavior<Command> onStartRound(StartRound m) {
        if (m.round() <= state.round && state.active) {
            return this;
        }
        dropInFlight();
        state.apply(m.plan(), getContext().getLog());
        state.roundStart = state.data.cursor();
        state.resetRound(m.round(), m.steps());
        state.shard = state.route != null ? state.route : m.shard();
        state.coordinator = m.coordinator();
        if (m.global() != null && state.learner != null) {
            SegmentLearner learner = state.learner;
            TensorExecutor.shared().execute(() -> learner.load(m.global())); // ahead of this round's steps
        }
        pump();
        finishIfDone();
        return this;
    }

    private Behavior<Command> onRewind(Rewind m) {
        if (m.round() != state.round || !(state.active || m.evenIfDone())) {
            return this;
        }
        getContext().getLog().warn("device {}: its shard lost round {}; running it again from its first micro-batch", state.settings.device(), m.round() + 1);
        dropInFlight();
        if (state.roundStart != null) {
            state.data.restore(state.roundStart);
        }
        state.resetRound(m.round(), state.steps);
        state.shard = state.route != null ? state.route : m.shard();
        if (m.global() != null && state.learner != null) {
            SegmentLearner learner = state.learner;
            LoraAdapter global = m.global();
            TensorExecutor.shared().execute(() -> learner.load(global));
        }
        pump();
        finishIfDone();
        return this;
    }

    /** Issues micro-batches while the round has some left and the window has room. */
    private void pump() {
        int window = mode.isSplit() ? state.settings.spec().pipeline().window() : 1;
        while (state.active && state.issued < state.steps && state.outstanding() < window) {
            List<SequenceEncoder.Encoded> rows = state.data.next();
            long seq = state.nextSeq++;
            state.issued++;
            state.open.add(seq);
            TokenBatch batch = state.settings.batcher().apply(rows);
            if (mode == TrainingMode.SPLITFROZEN && state.cache != null && state.cache.containsAll(batch)) {
                int[] shape = {batch.batch(), batch.seqLen(), state.settings.model().config().hiddenSize()};
                TensorPayload acts = WireCodec.encode(state.cache.assemble(batch), shape, state.uplinkEncoding, null);
                send(new Computed(state.round, seq, batch, acts, null, 0, 0, true));
                continue;
            }
            state.computing++;
            submit(seq, batch);
        }
    }

    private void submit(long seq, TokenBatch batch) {
        int round = state.round;
        var spec = state.settings.spec();
        TensorPayload.Encoding uplink = state.uplinkEncoding;
        double blockFlops = blockFlops(batch);
        int k = state.splitPoint();
        ModelSegment part = state.devicePart;
        CompletableFuture<Command> work = switch (mode) {
            case SPLITFROZEN -> TensorExecutor.shared().submit(() -> {
                long t0 = System.nanoTime();
                TensorPayload acts = SegmentLearner.frozenForward(part, batch, TensorPayload.Encoding.F32);
                return new Computed(round, seq, batch, acts, null, (System.nanoTime() - t0) / 1e9, blockFlops * k, false);
            });
            case SFL -> TensorExecutor.shared().submit(() -> {
                long t0 = System.nanoTime();
                SegmentLearner.InFlight graph = state.learner.forwardForCut(batch, uplink);
                return new Computed(round, seq, batch, graph.activations(), graph, (System.nanoTime() - t0) / 1e9, blockFlops * k, false);
            });
            case FEDLORA, CENTRALIZED -> TensorExecutor.shared().submit(() -> {
                long t0 = System.nanoTime();
                SegmentLearner.StepResult r = state.learner.trainStep(batch, null, null, null);
                int layers = state.settings.model().numLayers();
                return new LocalStep(round, seq, batch.batch(), r.loss(), (System.nanoTime() - t0) / 1e9, 2 * blockFlops * layers);
            });
        };
        getContext().pipeToSelf(work, (ok, err) -> err == null ? ok : new ComputeFailed(round, seq, err));
    }

    private double blockFlops(TokenBatch b) {
        var c = state.settings.model().config();
        return (double) b.batch() * b.seqLen() * c.blockFlopsPerToken(b.seqLen());
    }

    /** A slowed device holds each result back for the extra time its slower hardware would take. */
    private Duration extraDelay(double seconds) {
        return state.conditions.slowdown() > 1.0 ? Duration.ofNanos((long) ((state.conditions.slowdown() - 1.0) * seconds * 1e9)) : Duration.ZERO;
    }

    private Behavior<Command> onComputed(Computed c) {
        long now = System.nanoTime();
        long due = now + extraDelay(c.seconds()).toNanos();
        if (due <= now && state.held.isEmpty()) {
            return release(c);
        }
        // a slowed device still sends its micro-batches in order: each leaves no earlier than the one before
        if (state.held.add(due, c)) {
            arm(Line.HELD, state.held);
        }
        return this;
    }

    /** One timer per delay line, for its head (none while it is empty). */
    private void arm(Line line, DelayLine<?> queue) {
        if (!queue.isEmpty()) {
            timers.startSingleTimer(line, new LineDue(line), Duration.ofNanos(Math.max(0, queue.nextDueNanos() - System.nanoTime())));
        }
    }

    private Behavior<Command> onLineDue(LineDue m) {
        if (m.line() == Line.HELD) {
            state.held.takeDue(System.nanoTime(), this::release);
            arm(Line.HELD, state.held);
        } else {
            state.onUplink.takeDue(System.nanoTime(), o -> o.to().tell(o.forward()));
            arm(Line.UPLINK, state.onUplink);
        }
        return this;
    }

    private Behavior<Command> release(Command delayed) {
        if (delayed instanceof Computed c) {
            state.computing--;
            send(c);
            pump();
        } else if (delayed instanceof LocalStep s) {
            localStepDone(s);
        } else if (delayed instanceof Backpropagated b) {
            backpropagated(b);
        }
        return this;
    }

    /** Puts computed (or cached) activations on the uplink and remembers them until answered. */
    private void send(Computed c) {
        if (!state.active || c.round() != state.round) {
            closeGraph(c.graph());
            return;
        }
        state.computeSeconds += c.seconds() * state.conditions.slowdown();
        state.flops += c.flops();
        if (c.cached()) {
            state.cachedMicroBatches++;
        }
        TensorPayload acts = c.activations();
        if (mode == TrainingMode.SPLITFROZEN && !c.cached()) {
            if (state.cache != null) {
                state.cache.store(c.batch(), acts);
            }
            TensorPayload.Encoding uplink = state.uplinkEncoding;
            if (uplink != TensorPayload.Encoding.F32) {
                acts = WireCodec.encode(WireCodec.toFloats(acts), acts.shape(), uplink, null);
            }
        }
        long now = JobClock.micros();
        state.timeline.add(new TimelineEvent(state.settings.device(), c.round(), c.seq(), TimelineEvent.Stage.COMPUTED, now, "device-" + state.settings.device(),
                (long) (c.seconds() * 1e6)));
        ServerShard.Forward f = new ServerShard.Forward(state.settings.device(), state.splitPoint(), c.round(), c.seq(),
                state.steps, c.batch().withoutTokens(), acts, now, Inbound.replyTo(getContext().getSelf()));
        state.pending.put(c.seq(), new DeviceState.Pending(f, System.nanoTime(), c.graph()));
        state.bytesUp += acts.wireBytes();
        deliver(f);
        state.timeline.add(new TimelineEvent(state.settings.device(), c.round(), c.seq(), TimelineEvent.Stage.SENT, JobClock.micros(), "device-" + state.settings.device()));
    }

    private void deliver(ServerShard.Forward f) {
        long now = System.nanoTime();
        if (state.conditions.cutAt(now)) {
            return; // the link is down: lost, and sent again after the ack timeout
        }
        // a slowed device's link is slowed as much as its compute
        long bytes = (long) (f.activations().wireBytes() * state.conditions.slowdown());
        Duration delay = state.uplink == null ? Duration.ZERO : state.uplink.send(bytes, now);
        delay = delay.plusNanos(state.conditions.extraLatencyNanos());
        if (delay.isZero() && state.onUplink.isEmpty()) {
            state.shard.tell(f);
        } else if (state.onUplink.add(now + delay.toNanos(), new DeviceState.Outbound(state.shard, f))) {
            arm(Line.UPLINK, state.onUplink); // in order: a later micro-batch never arrives first
        }
    }

    private void resend(ServerShard.Forward f) {
        state.resent++;
        deliver(f);
    }

    private Behavior<Command> onShardReply(FromShard m) {
        if (m.reply() instanceof ServerShard.Credit c) {
            return onCredit(c);
        }
        if (m.reply() instanceof ServerShard.CutGradient g) {
            return onCutGradient(g);
        }
        return onRejected((ServerShard.Rejected) m.reply());
    }

    private Behavior<Command> onCredit(ServerShard.Credit m) {
        DeviceState.Pending p = m.round() == state.round ? state.pending.remove(m.seq()) : null;
        if (p == null) {
            return this; // an answer to a resend, or to a round already over
        }
        answered(m.round(), m.seq(), p.forward().batch().batch(), 16);
        return this;
    }

    private Behavior<Command> onCutGradient(ServerShard.CutGradient m) {
        DeviceState.Pending p = m.round() == state.round ? state.pending.remove(m.seq()) : null;
        if (p == null) {
            return this;
        }
        state.bytesDown += m.gradient().wireBytes();
        state.arrived.put(m.seq(), new DeviceState.Arrived(p, m));
        backwardNext();
        return this;
    }

    /** Back-propagates the earliest open micro-batch once its gradient is here and no other backward runs. */
    private void backwardNext() {
        if (state.backwardSeq >= 0 || state.arrived.isEmpty() || state.open.isEmpty() || state.arrived.firstKey() != state.open.first().longValue()) {
            return;
        }
        DeviceState.Arrived a = state.arrived.pollFirstEntry().getValue();
        long seq = a.gradient().seq();
        state.backwardSeq = seq;
        state.computing++;
        int round = state.round;
        int samples = a.pending().forward().batch().batch();
        double flops = blockFlops(a.pending().forward().batch()) * state.splitPoint();
        SegmentLearner.InFlight graph = a.pending().graph();
        TensorPayload gradient = a.gradient().gradient();
        CompletableFuture<Command> work = TensorExecutor.shared().submit(() -> {
            long t0 = System.nanoTime();
            graph.backward(gradient);
            return new Backpropagated(round, seq, samples, (System.nanoTime() - t0) / 1e9, flops);
        });
        getContext().pipeToSelf(work, (ok, err) -> err == null ? ok : new ComputeFailed(round, seq, err));
    }

    private Behavior<Command> onBackpropagated(Backpropagated b) {
        Duration extra = extraDelay(b.seconds());
        if (!extra.isZero()) {
            getContext().scheduleOnce(extra, getContext().getSelf(), new Release(b));
            return this;
        }
        backpropagated(b);
        return this;
    }

    private void backpropagated(Backpropagated b) {
        state.computing--;
        if (b.seq() == state.backwardSeq) {
            state.backwardSeq = -1;
        }
        if (b.round() != state.round || !state.active) {
            return;
        }
        state.computeSeconds += b.seconds() * state.conditions.slowdown();
        state.flops += b.flops();
        state.timeline.add(new TimelineEvent(state.settings.device(), b.round(), b.seq(), TimelineEvent.Stage.BACKWARD, JobClock.micros(),
                "device-" + state.settings.device(), (long) (b.seconds() * 1e6)));
        answered(b.round(), b.seq(), b.samples(), 0);
        backwardNext(); // after answered's pump: the next forward is queued ahead of this step
    }

    private Behavior<Command> onLocalStep(LocalStep s) {
        Duration extra = extraDelay(s.seconds());
        if (!extra.isZero()) {
            getContext().scheduleOnce(extra, getContext().getSelf(), new Release(s));
            return this;
        }
        localStepDone(s);
        return this;
    }

    private void localStepDone(LocalStep s) {
        state.computing--;
        if (s.round() != state.round || !state.active) {
            return;
        }
        state.computeSeconds += s.seconds() * state.conditions.slowdown();
        state.flops += s.flops();
        state.localLosses.add(new StepLoss(s.round(), state.settings.device(), s.seq(), s.loss(), JobClock.micros()));
        state.timeline.add(new TimelineEvent(state.settings.device(), s.round(), s.seq(), TimelineEvent.Stage.COMPUTED, JobClock.micros(),
                "device-" + state.settings.device(), (long) (s.seconds() * 1e6)));
        answered(s.round(), s.seq(), s.samples(), 0);
    }

    private void answered(int round, long seq, int samples, long bytes) {
        state.open.remove(seq);
        state.answered++;
        state.samples += samples;
        state.bytesDown += bytes;
        state.timeline.add(new TimelineEvent(state.settings.device(), round, seq, TimelineEvent.Stage.ANSWERED, JobClock.micros(), "device-" + state.settings.device()));
        float loss = state.localLosses.isEmpty() ? Float.NaN : state.localLosses.get(state.localLosses.size() - 1).loss();
        state.coordinator.tell(new Progress(state.settings.device(), round, state.answered, state.steps, samples,
                state.bytesUp, state.bytesDown, state.pending.size(), loss));
        pump();
        finishIfDone();
    }

    private Behavior<Command> onRejected(ServerShard.Rejected m) {
        DeviceState.Pending p = m.round() == state.round ? state.pending.remove(m.seq()) : null;
        if (p == null) {
            return this;
        }
        getContext().getLog().warn("device {}: micro-batch {} rejected by the server: {}", state.settings.device(), m.seq(), m.reason());
        closeGraph(p.graph());
        state.open.remove(m.seq());
        state.answered++;
        pump();
        backwardNext();
        finishIfDone();
        return this;
    }

    private void finishIfDone() {
        if (!state.active || state.answered < state.steps) {
            return;
        }
        state.active = false;
        LoraAdapter update = state.learner == null ? null : state.learner.adapter();
        if (update != null && state.conditions.poison() != 1.0) {
            update = update.scaled((float) state.conditions.poison());
        }
        DeviceRoundStats stats = new DeviceRoundStats(state.settings.device(), state.round, state.samples, state.answered, state.cachedMicroBatches,
                state.computeSeconds, state.flops, state.bytesUp + (update == null ? 0 : 4 * update.parameterCount()), state.bytesDown,
                state.resent, state.localLosses, state.timeline, upcomingTokens(state.steps));
        // every step of the round has completed on the tensor thread, so the adapter is settled
        Wire.tell(getContext().getSystem(), state.coordinator, new RoundDone(state.settings.device(), state.round, stats, update == null ? null : update.copy(),
                getContext().getSelf()));
    }

    private Behavior<Command> onTakeCheckpoint(TakeCheckpoint m) {
        var cursor = state.data.cursor();
        long seq = state.nextSeq;
        int device = state.settings.device();
        int round = state.round;
        SegmentLearner learner = state.learner;
        var system = getContext().getSystem();
        // the optimizer's moments are the tensor thread's: copied there, after every step this device queued
        CompletableFuture<DeviceSnapshot> snap = TensorExecutor.shared().submit(() ->
                new DeviceSnapshot(device, round, cursor, seq, learner == null ? null : learner.optimizer().state().copy()));
        snap.whenComplete((s, err) -> {
            if (err == null) {
                Wire.tell(system, m.replyTo(), new Checkpointed(m.roundsDone(), s));
            }
        });
        return this;
    }

    /**
     * Times a frozen forward pass of one micro-batch of this device's own data through its blocks
     * (the whole model outside the split modes): the fastest of three, after two untimed passes to
     * warm up. A slowed device reports the speed it was slowed to.
     */
    private Behavior<Command> onProfile(Profile m) {
        var model = state.settings.model();
        int k = state.settings.mode().isSplit() ? Math.max(1, state.splitPoint()) : model.numLayers();
        ModelSegment part = state.devicePart != null && state.splitPoint() == k ? state.devicePart : ModelSegment.devicePart(model, k);
        TokenBatch batch = state.settings.batcher().apply(state.data.upcoming(1).get(0));
        long nextTokens = upcomingTokens(Math.max(1, m.steps()));
        int device = state.settings.device();
        double slowdown = state.conditions.slowdown();
        CompletableFuture<DeviceProfile> work = TensorExecutor.shared().submit(() -> {
            double fastest = Double.POSITIVE_INFINITY;
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                SegmentLearner.frozenForward(part, batch, TensorPayload.Encoding.F32);
                if (i >= 2) {
                    fastest = Math.min(fastest, (System.nanoTime() - t0) / 1e9);
                }
            }
            double seconds = fastest * slowdown;
            return new DeviceProfile(device, seconds, batch.batch(), k, batch.seqLen(), nextTokens);
        });
        getContext().pipeToSelf(work, (ok, err) -> new ProfileTaken(ok, m.replyTo(), err));
        return this;
    }

    /** Padded tokens in the next {@code steps} micro-batches: what sets the next round's bytes and compute. */
    private long upcomingTokens(int steps) {
        long tokens = 0;
        for (List<SequenceEncoder.Encoded> rows : state.data.upcoming(steps)) {
            tokens += (long) rows.size() * state.settings.batcher().apply(rows).seqLen();
        }
        return tokens;
    }

    private Behavior<Command> onProfiled(ProfileTaken p) {
        if (p.error() != null) {
            getContext().getLog().error("device {}: profiling failed: {}", state.settings.device(), p.error().toString());
            return this;
        }
        getContext().getLog().debug("device {}: {}", state.settings.device(), p.profile());
        p.replyTo().tell(new Profiled(p.profile()));
        return this;
    }

    private Behavior<Command> onAbort(AbortRound m) {
        if (m.round() == state.round && state.active) {
            getContext().getLog().info("device {}: round {} closed without it; dropping {} micro-batches in flight", state.settings.device(), m.round(), state.pending.size());
            state.active = false;
            dropInFlight();
        }
        return this;
    }

    private void dropInFlight() {
        List<SegmentLearner.InFlight> graphs = new ArrayList<>();
        state.pending.values().forEach(p -> {
            if (p.graph() != null) {
                graphs.add(p.graph());
            }
        });
        state.arrived.values().forEach(a -> {
            if (a.pending().graph() != null) {
                graphs.add(a.pending().graph());
            }
        });
        state.pending.clear();
        state.arrived.clear();
        state.open.clear();
        if (!graphs.isEmpty()) {
            TensorExecutor.shared().execute(() -> graphs.forEach(SegmentLearner.InFlight::close));
        }
    }

    private void closeGraph(SegmentLearner.InFlight graph) {
        if (graph != null) {
            TensorExecutor.shared().execute(graph::close);
        }
    }

    private Behavior<Command> onComputeFailed(ComputeFailed f) {
        state.computing--;
        if (f.seq() == state.backwardSeq) {
            state.backwardSeq = -1;
        }
        Throwable cause = f.error().getCause() != null ? f.error().getCause() : f.error();
        getContext().getLog().error("device {}: micro-batch {} failed on the device: {}", state.settings.device(), f.seq(), cause.toString());
        if (f.round() == state.round && state.active) {
            state.open.remove(f.seq());
            state.answered++;
            pump();
            backwardNext();
            finishIfDone();
        }
        return this;
    }

    private Behavior<Command> onResendTick() {
        if (!state.active) {
            return this;
        }
        long limit = state.settings.spec().pipeline().ackTimeout().toNanos();
        long now = System.nanoTime();
        for (var e : new ArrayList<>(state.pending.entrySet())) {
            DeviceState.Pending p = e.getValue();
            if (now - p.sentNanos() > limit) {
                state.pending.put(e.getKey(), new DeviceState.Pending(p.forward(), now, p.graph()));
                resend(p.forward());
            }
        }
        return this;
    }
}
