package io.splitfed.actors.device;

import io.splitfed.actors.device.DeviceActor.Command;
import io.splitfed.actors.device.DeviceActor.Rewind;
import io.splitfed.actors.device.DeviceStep.Backpropagated;
import io.splitfed.actors.device.DeviceStep.Computed;
import io.splitfed.actors.device.DeviceStep.TailTrained;
import io.splitfed.actors.job.TrainingMode;
import io.splitfed.actors.metrics.JobClock;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.privacy.CutNoise;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;
import io.splitfed.model.tokenizer.SequenceEncoder;
import io.splitfed.model.train.SegmentLearner;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A device in the split modes: streams micro-batches to its server worker, keeping up to
 * {@code window} in flight so it computes micro-batch i+1 while the link carries i and the server
 * trains i-1. In SplitFrozen it runs its frozen blocks forward only (from the activation cache
 * after the first epoch); in SFL it keeps each micro-batch's graph until the cut gradient returns
 * and steps its own adapter, in sequence order. What goes unanswered past the ack timeout is sent
 * again; the worker answers a resend without training it twice. Those rules are the
 * {@link DevicePipeline}'s and the tensor work is {@link DeviceStep}'s; what goes up the link
 * leaves through the job's {@link io.splitfed.actors.link.Links}. This behaviour carries out what
 * they say.
 */
final class SplitDevice extends DeviceBehavior {

    /** A worker's answer to a micro-batch, adapted by the device's Inbound edge. */
    record FromShard(ServerShard.Reply reply) implements DeviceActor.Internal {}

    /** Results a slowdown held back are due. */
    private enum HeldDue implements DeviceActor.Internal { INSTANCE }

    private enum ResendTick implements DeviceActor.Internal { INSTANCE }

    private final TrainingMode mode;

    SplitDevice(ActorContext<Command> context, TimerScheduler<Command> timers, DeviceState state) {
        super(context, timers, state);
        this.mode = state.settings.mode();
        Duration ack = state.settings.spec().pipeline().ackTimeout();
        timers.startTimerWithFixedDelay(ResendTick.INSTANCE, ack.dividedBy(2));
        armHeld();
        if (state.active) {
            // restarted mid-round: the shard answers (never retrains) anything it already has
            state.pipeline.unanswered().forEach(this::resend);
            pump();
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return commonReceive()
                .onMessage(Rewind.class, this::onRewind)
                .onMessage(FromShard.class, this::onShardReply)
                .onMessage(Computed.class, this::onComputed)
                .onMessage(Backpropagated.class, this::onBackpropagated)
                .onMessage(TailTrained.class, this::onTailTrained)
                .onMessageEquals(HeldDue.INSTANCE, this::onHeldDue)
                .onMessageEquals(ResendTick.INSTANCE, this::onResendTick)
                .build();
    }

    @Override
    void settled() {
        backwardNext();
    }

    private Behavior<Command> onRewind(Rewind m) {
        if (m.round() != state.round || !(state.active || m.evenIfDone())) {
            return this;
        }
        getContext().getLog().warn("device {}: its shard lost round {}; running it again from its first micro-batch", state.settings.device(), m.round() + 1);
        dropInFlight();
        if (state.roundStart != null) {
            state.data.restore(state.roundStart);
            state.nextSeq = state.roundFirstSeq;
        }
        state.resetRound(m.round(), state.steps);
        state.shard = state.route != null ? state.route : m.shard();
        if (m.global() != null && state.learner != null) {
            DeviceState s = state;
            LoraAdapter global = m.global();
            TensorExecutor.shared().execute(() -> s.load(global));
        }
        pump();
        finishIfDone();
        return this;
    }

    /** Issues micro-batches while the round has some left and the window has room. */
    @Override
    void pump() {
        int window = state.settings.spec().pipeline().window();
        while (state.active && state.issued < state.steps && state.outstanding() < window) {
            List<SequenceEncoder.Encoded> rows = state.data.next();
            long seq = state.nextSeq++;
            state.issued++;
            state.pipeline.issued(seq);
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
        CompletableFuture<Computed> work = DeviceStep.forward(mode, state, seq, batch, blockFlops(batch) * state.splitPoint());
        getContext().pipeToSelf(work, (ok, err) -> err == null ? ok : new ComputeFailed(round, seq, err));
    }

    private Behavior<Command> onComputed(Computed c) {
        long now = time.nanos();
        long due = now + heldFor(c.seconds(), c.flops(), 0).toNanos();
        if (due <= now && state.held.isEmpty()) {
            return release(c);
        }
        // a slowed device still sends its micro-batches in order: each leaves no earlier than the one before
        if (state.held.add(due, c)) {
            armHeld();
        }
        return this;
    }

    /** One timer for the head of the held results (none while there is none). */
    private void armHeld() {
        if (!state.held.isEmpty()) {
            timers.startSingleTimer(HeldDue.INSTANCE, Duration.ofNanos(Math.max(0, state.held.nextDueNanos() - time.nanos())));
        }
    }

    private Behavior<Command> onHeldDue() {
        state.held.takeDue(time.nanos(), this::release);
        armHeld();
        return this;
    }

    @Override
    Behavior<Command> release(Command delayed) {
        if (delayed instanceof Computed c) {
            state.computing--;
            send(c);
            pump();
        } else if (delayed instanceof Backpropagated b) {
            backpropagated(b);
        } else if (delayed instanceof TailTrained t) {
            tailTrained(t);
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
        CutNoise defence = state.settings.spec().privacy();
        if (defence.active() && !c.cached()) { // before the cache keeps it: each example is released one way, never a fresh draw
            acts = defence.apply(acts, CutNoise.rowSeeds(state.noiseSalt, c.batch().sampleIds()));
        }
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
        boolean uShaped = state.settings.uShape() != null;
        if (uShaped) {
            state.withLabels.put(c.seq(), c.batch().withoutTokens()); // the labels stay here, for the head
        }
        ServerShard.Forward f = new ServerShard.Forward(state.settings.device(), state.splitPoint(), c.round(), c.seq(),
                state.steps, uShaped ? c.batch().withoutTokensOrLabels() : c.batch().withoutTokens(), acts, now,
                DeviceActor.SHARD_REPLIES.replyTo(getContext().getSelf()));
        state.bytesUp += acts.wireBytes();
        state.pipeline.sent(c.seq(), f, up(f), c.graph());
        state.timeline.add(new TimelineEvent(state.settings.device(), c.round(), c.seq(), TimelineEvent.Stage.SENT, JobClock.micros(), "device-" + state.settings.device()));
    }

    private void resend(long seq) {
        state.resent++;
        state.pipeline.resent(seq, this::up);
    }

    /** Sends {@code f} up the device's link; returns when it reaches the shard's end. */
    private long up(ServerShard.Forward f) {
        return links.up(state.settings.device(), state.shard, f, f.activations().wireBytes());
    }

    private Behavior<Command> onShardReply(FromShard m) {
        if (m.reply() instanceof ServerShard.Credit c) {
            return onCredit(c);
        }
        if (m.reply() instanceof ServerShard.CutGradient g) {
            return onCutGradient(g);
        }
        if (m.reply() instanceof ServerShard.ServerOutput o) {
            return onServerOutput(o);
        }
        return onRejected((ServerShard.Rejected) m.reply());
    }

    private Behavior<Command> onCredit(ServerShard.Credit m) {
        DevicePipeline.Pending p = state.pipeline.answered(m.round() == state.round, m.seq(), time.nanos());
        if (p == null) {
            return this; // an answer to a resend, or to a round already over
        }
        forgetLabels(m.seq());
        answered(m.round(), m.seq(), p.forward().batch().batch(), 16);
        return this;
    }

    /**
     * The U-shape: the server's output for a micro-batch this device sent. Its tail and head train on
     * it with the labels that stayed here, and the gradient at the output goes back; an output sent
     * again is answered with the same gradient, never trained twice.
     */
    private Behavior<Command> onServerOutput(ServerShard.ServerOutput o) {
        TokenBatch batch = o.round() == state.round && state.active ? state.withLabels.get(o.seq()) : null;
        if (batch == null) {
            return this; // for a round over, or a micro-batch already answered
        }
        state.bytesDown += o.output().wireBytes();
        ServerShard.OutputGradient sent = state.outputGradients.get(o.seq());
        if (sent != null) {
            links.up(state.settings.device(), state.shard, sent, sent.gradient().wireBytes());
            return this;
        }
        if (!state.tailsRunning.add(o.seq())) {
            return this; // its tail step is running: the gradient goes when it ends
        }
        state.computing++;
        int round = state.round;
        long seq = o.seq();
        double flops = 2.0 * blockFlops(batch) * (state.settings.model().numLayers() - state.settings.uShape().end());
        CompletableFuture<TailTrained> work = DeviceStep.tail(state, seq, batch, o.output(), flops);
        getContext().pipeToSelf(work, (ok, err) -> err == null ? ok : new ComputeFailed(round, seq, err));
        return this;
    }

    private Behavior<Command> onTailTrained(TailTrained t) {
        Duration extra = heldFor(t.seconds(), 0, t.flops());
        if (!extra.isZero()) {
            outbox.sendLater(extra, getContext().getSelf(), new Release(t));
            return this;
        }
        tailTrained(t);
        return this;
    }

    private void tailTrained(TailTrained t) {
        state.computing--;
        state.tailsRunning.remove(t.seq());
        if (t.round() != state.round || !state.active || !state.withLabels.containsKey(t.seq())) {
            return;
        }
        state.computeSeconds += t.seconds() * state.conditions.slowdown();
        state.flops += t.flops();
        long now = JobClock.micros();
        state.localLosses.add(new StepLoss(t.round(), state.settings.device(), t.seq(), t.loss(), now));
        state.timeline.add(new TimelineEvent(state.settings.device(), t.round(), t.seq(), TimelineEvent.Stage.BACKWARD, now,
                "device-" + state.settings.device(), (long) (t.seconds() * 1e6)));
        ServerShard.OutputGradient g = new ServerShard.OutputGradient(state.settings.device(), t.round(), t.seq(), t.gradient());
        state.outputGradients.put(t.seq(), g);
        state.bytesUp += t.gradient().wireBytes();
        links.up(state.settings.device(), state.shard, g, t.gradient().wireBytes());
    }

    private Behavior<Command> onCutGradient(ServerShard.CutGradient m) {
        DevicePipeline.Pending p = state.pipeline.answered(m.round() == state.round, m.seq(), time.nanos());
        if (p == null) {
            return this;
        }
        state.bytesDown += m.gradient().wireBytes();
        forgetLabels(m.seq()); // a U-shaped SFL step's answer: its tail has trained
        state.pipeline.gradientArrived(p, m);
        backwardNext();
        return this;
    }

    /** Back-propagates the earliest open micro-batch once its gradient is here and no other backward runs. */
    private void backwardNext() {
        DevicePipeline.Arrived a = state.pipeline.nextBackward();
        if (a == null) {
            return;
        }
        long seq = a.gradient().seq();
        state.computing++;
        int round = state.round;
        CompletableFuture<Backpropagated> work = DeviceStep.backward(round, a, blockFlops(a.pending().forward().batch()) * state.splitPoint());
        getContext().pipeToSelf(work, (ok, err) -> err == null ? ok : new ComputeFailed(round, seq, err));
    }

    private Behavior<Command> onBackpropagated(Backpropagated b) {
        Duration extra = heldFor(b.seconds(), 0, b.flops());
        if (!extra.isZero()) {
            outbox.sendLater(extra, getContext().getSelf(), new Release(b));
            return this;
        }
        backpropagated(b);
        return this;
    }

    private void backpropagated(Backpropagated b) {
        state.computing--;
        state.pipeline.backwardEnded(b.seq());
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

    private Behavior<Command> onRejected(ServerShard.Rejected m) {
        DevicePipeline.Pending p = state.pipeline.refused(m.round() == state.round, m.seq());
        if (p == null) {
            return this;
        }
        getContext().getLog().warn("device {}: micro-batch {} rejected by the server: {}", state.settings.device(), m.seq(), m.reason());
        forgetLabels(m.seq());
        closeGraph(p.graph());
        settledUnanswered(m.seq());
        return this;
    }

    /** The U-shape: {@code seq} is answered or refused, so its labels and the gradient kept for a resent output go. */
    private void forgetLabels(long seq) {
        state.withLabels.remove(seq);
        state.outputGradients.remove(seq);
    }

    private Behavior<Command> onResendTick() {
        if (!state.active) {
            return this;
        }
        state.pipeline.expired(time.nanos()).forEach(this::resend);
        return this;
    }
}
