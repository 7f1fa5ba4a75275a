package io.splitfed.actors.server;

import io.splitfed.actors.metrics.JobClock;
import io.splitfed.actors.metrics.SeenGradient;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.actors.server.ServerShard.Checkpointed;
import io.splitfed.actors.server.ServerShard.CloseRound;
import io.splitfed.actors.server.ServerShard.Command;
import io.splitfed.actors.server.ServerShard.Forward;
import io.splitfed.actors.server.ServerShard.HandOff;
import io.splitfed.actors.server.ServerShard.Load;
import io.splitfed.actors.server.ServerShard.LoadAdapter;
import io.splitfed.actors.server.ServerShard.ReportLoad;
import io.splitfed.actors.server.ServerShard.RoundStarted;
import io.splitfed.actors.server.ServerShard.Step;
import io.splitfed.actors.server.ServerShard.Stored;
import io.splitfed.actors.server.ServerShard.TakeCheckpoint;
import io.splitfed.actors.link.SimulatedLinks;
import io.splitfed.actors.time.JobTime;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;
import io.splitfed.model.train.SegmentLearner;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The server-side LoRA worker behind {@link ServerShard}'s protocol: trains the server part on
 * micro-batches of cut activations as they arrive, one step at a time on the JVM's tensor thread
 * ({@link ShardStep}). What becomes of each arrival and which rows each step takes is the
 * {@link ShardQueue}'s to say; each trained micro-batch is answered ({@link ShardReplies}) with a
 * credit (SplitFrozen) or with its cut gradient, which in SFL is sent as soon as the input-gradient
 * pass ends, before the weight-gradient pass. A micro-batch seen before is answered again, never
 * trained twice. In the U-shaped split a step has two halves: the middle blocks' forward, whose
 * output goes down to the device ({@code ServerOutput}), and, once the device's gradient at that
 * output is back ({@code OutputGradient}), their backward and the optimizer's step; the step waits
 * for the device, and gives up after three ack timeouts or when the round closes. Around those, this
 * behaviour keeps the round: open, close, reset, hand-off.
 */
final class LoraWorker extends AbstractBehavior<Command> {

    private record Trained(Step step, ShardStep.Result result) implements ServerShard.Internal {}

    /** On a fleet's time: a trained step once the server's time for it has passed (its SFL cut gradient goes then too). */
    private record StepDue(Trained trained, Runnable heldGradient) implements ServerShard.Internal {}

    private record TrainFailed(Step step, Throwable error) implements ServerShard.Internal {}

    /** The U-shape: the server blocks' forward of {@code step} is done; their output goes to the device. */
    private record MiddleDone(ShardStep.Middle middle) implements ServerShard.Internal {}

    /** The U-shape: {@code step}'s device has not sent its gradient back in time. */
    private record GradientOverdue(Step step) implements ServerShard.Internal {}

    /** For what happens off the actor's thread (its own log is the actor's alone). */
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LoraWorker.class);

    private final ShardState state;
    private final Outbox outbox;
    private final ShardReplies replies;
    private final JobTime time;
    /** On a fleet's time: when the step in progress started, and its SFL cut gradient until the step's time has passed. */
    private long stepStarted;
    private volatile Runnable heldGradient;

    LoraWorker(ActorContext<Command> context, ShardState state) {
        super(context);
        this.outbox = Outbox.get(context.getSystem());
        this.state = state;
        this.time = JobTime.get(context.getSystem());
        if (state.links == null) { // kept in the state, so a restarted worker's answers stay behind those still on their links
            if (time.emulated()) {
                state.fleetDownlinks(time.fleet());
            }
            state.links = state.settings.spec().links().enabled() || time.emulated()
                    ? SimulatedLinks.shard(context.getSystem(), outbox, state::downlink)
                    : io.splitfed.actors.link.Links.direct(outbox);
        }
        this.replies = new ShardReplies(state, outbox, state.links, context.getLog(), context.getExecutionContext());
        context.getLog().info("shard {}: LoRA worker on {}, base blocks in {}, adapters and optimizer in fp32", state.settings.shard(),
                TensorExecutor.shared().device(), TensorExecutor.shared().basePrecision());
        if (state.inProgress == null && !state.queue.isEmpty()) {
            startNext();
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Forward.class, this::onForward)
                .onMessage(RoundStarted.class, this::onRoundStarted)
                .onMessage(CloseRound.class, this::onCloseRound)
                .onMessage(LoadAdapter.class, this::onLoadAdapter)
                .onMessage(Trained.class, this::onTrained)
                .onMessage(StepDue.class, this::onStepDue)
                .onMessage(TrainFailed.class, this::onTrainFailed)
                .onMessage(MiddleDone.class, this::onMiddleDone)
                .onMessage(ServerShard.OutputGradient.class, this::onOutputGradient)
                .onMessage(GradientOverdue.class, m -> {
                    if (state.awaiting != null && state.awaiting.step() == m.step()) {
                        Forward f = m.step().first().forward;
                        abandonAwaiting("no gradient at the server's output came back from device " + f.device() + " within "
                                + gradientTimeout().toSeconds() + "s");
                    }
                    return this;
                })
                .onMessage(ServerShard.Reset.class, m -> {
                    state.resetTo = m.snapshot();
                    if (state.awaiting != null) {
                        abandonAwaiting("the shard goes back to its checkpoint");
                    } else if (state.inProgress == null) {
                        applyReset();
                    }
                    return this;
                })
                .onMessage(HandOff.class, m -> {
                    state.handingOff = true;
                    if (state.awaiting != null) {
                        keepAwaitingForTheNextIncarnation();
                    }
                    if (state.inProgress == null) {
                        saveAndStop();
                    }
                    return this;
                })
                .onMessage(Stored.class, m -> m.reply() instanceof ShardStore.Saved ? Behaviors.stopped() : this)
                .onMessage(ReportLoad.class, m -> {
                    float loss = state.losses.isEmpty() ? Float.NaN : state.losses.get(state.losses.size() - 1).loss();
                    outbox.send(m.replyTo(), new Load(state.settings.shard(), state.queue.size(), state.stepsTotal, loss));
                    return this;
                })
                .onMessage(TakeCheckpoint.class, m -> {
                    state.snapshot().whenComplete((s, err) -> {
                        if (err != null) {
                            LOG.error("shard {}: no snapshot for the checkpoint after round {}", state.settings.shard(), m.roundsDone(), err);
                        } else {
                            outbox.send(m.replyTo(), new Checkpointed(m.roundsDone(), s));
                        }
                    });
                    return this;
                })
                .build();
    }

    private Behavior<Command> onRoundStarted(RoundStarted m) {
        if (m.round() == state.round && state.awaitingRewind) {
            state.awaitingRewind = false; // the coordinator knows this shard lost the round: its closes count again
            return this;
        }
        if (m.round() <= state.round) {
            return this;
        }
        state.awaitingRewind = false;
        state.resetRound(m.round());
        state.accepting = true;
        state.boundary = state.snapshot(); // what a restart after losing this shard's node goes on from
        if (state.store != null) {
            // kept off this node: a shard whose node dies goes on from its round's start, on another node
            var store = state.store;
            state.boundary.thenAccept(s -> outbox.send(store, new ShardStore.Boundary(s)));
        }
        for (Forward f : state.queue.releaseHeld()) {
            onForward(f);
        }
        if (state.inProgress == null) {
            startNext();
        }
        return this;
    }

    private Behavior<Command> onForward(Forward f) {
        ShardQueue.Admission a = state.queue.admit(f, state.round, state.accepting, ForwardCheck.problem(f, state.settings, state.round),
                state.trained(f.device()).contains(f.seq()));
        if (!(a instanceof ShardQueue.Admission.Refused r && r.strike()) && !(a instanceof ShardQueue.Admission.Held h && h.early())) {
            state.timeline.add(new TimelineEvent(f.device(), f.round(), f.seq(), TimelineEvent.Stage.RECEIVED, JobClock.micros(), "shard-" + state.settings.shard()));
        }
        if (a instanceof ShardQueue.Admission.Refused r) {
            if (r.strike()) {
                state.strikes.merge(f.device(), 1, Integer::sum);
            }
            replies.reject(f, r.reason());
        } else if (a instanceof ShardQueue.Admission.SeenBefore) {
            state.duplicates++;
            replies.again(f);
        } else if (a instanceof ShardQueue.Admission.Queued && state.inProgress == null) {
            startNext();
        } // held: admitted again when the next round opens
        return this;
    }

    /**
     * Starts the next step. SplitFrozen takes rows from up to {@code mix-devices} devices' queued
     * micro-batches; SFL trains one device's micro-batch whole, as its cut gradient goes back to
     * that device alone.
     */
    private void startNext() {
        if (state.handingOff || !state.accepting) {
            return; // between rounds the adapter is being aggregated: what is queued waits for the next round
        }
        MixedBatch chosen = state.queue.next(state::progressAfter);
        if (chosen == null) {
            return;
        }
        Step step = new Step(chosen.taken(), chosen.batch().batch());
        state.inProgress = step;
        Forward f = step.first().forward;
        Consumer<TensorPayload> onGradient = state.settings.sendsCutGradients() ? replies.gradients(f) : null;
        if (onGradient != null && time.fleet() != null) {
            Consumer<TensorPayload> send = onGradient;
            onGradient = g -> heldGradient = () -> send.accept(g); // leaves when the step's time on the fleet has passed
        }
        stepStarted = time.nanos();
        if (state.settings.uShape() != null) {
            getContext().pipeToSelf(ShardStep.forwardMiddle(state, chosen, step), (ok, err) -> err == null ? new MiddleDone(ok) : new TrainFailed(step, err));
            return;
        }
        getContext().pipeToSelf(ShardStep.submit(state, chosen, f, onGradient), (ok, err) -> err == null ? new Trained(step, ok) : new TrainFailed(step, err));
    }

    /**
     * The U-shape: the server's blocks ran forward; their output goes down to the device, and the
     * step waits for the gradient at it. A round closing, a reset or a hand-off meanwhile drops it.
     */
    private Behavior<Command> onMiddleDone(MiddleDone m) {
        state.awaiting = m.middle();
        if (state.handingOff) {
            keepAwaitingForTheNextIncarnation();
            saveAndStop();
            return this;
        }
        if (state.pendingClose != null || state.resetTo != null) {
            abandonAwaiting("the round closed, or the shard went back to its checkpoint, before the server's output went to the device");
            return this;
        }
        replies.output(m.middle().step().first().forward, m.middle().output());
        outbox.sendLater(gradientTimeout(), getContext().getSelf(), new GradientOverdue(m.middle().step()));
        return this;
    }

    /** How long the U-shape waits for a device's gradient: three ack timeouts, as a device resends after one. */
    private Duration gradientTimeout() {
        return state.settings.spec().pipeline().ackTimeout().multipliedBy(3);
    }

    /** The U-shape: the device's gradient at the server's output; the step goes on with its backward. */
    private Behavior<Command> onOutputGradient(ServerShard.OutputGradient g) {
        ShardStep.Middle a = state.awaiting;
        if (a == null || !a.isFor(g.device(), g.seq()) || g.round() != a.step().first().forward.round()) {
            getContext().getLog().debug("shard {}: a gradient for device {} micro-batch {} that no step waits for; dropped", state.settings.shard(),
                    g.device(), g.seq());
            return this;
        }
        Forward f = a.step().first().forward;
        String problem = g.gradient() == null ? "no gradient"
                : !Arrays.equals(g.gradient().shape(), a.output().shape())
                        ? "gradient of shape " + Arrays.toString(g.gradient().shape()) + " for an output of shape " + Arrays.toString(a.output().shape())
                        : g.gradient().firstNonFinite() >= 0 ? "the gradient holds NaN or Inf (first at value " + g.gradient().firstNonFinite() + ")" : null;
        if (problem != null) {
            state.strikes.merge(f.device(), 1, Integer::sum);
            abandonAwaiting(problem);
            return this;
        }
        state.awaiting = null;
        if (state.settings.spec().uShape().recordGradients()) {
            recordSeen(f, g.gradient());
        }
        Step step = a.step();
        Consumer<TensorPayload> onGradient = state.settings.sendsCutGradients() ? replies.gradients(f) : null; // SFL: on to the device's blocks
        getContext().pipeToSelf(ShardStep.backwardMiddle(state, a, g.gradient(), onGradient),
                (ok, err) -> err == null ? new Trained(step, ok) : new TrainFailed(step, err));
        return this;
    }

    /** Keeps what the shard got back for each example of {@code f}, summed over positions, for an audit of what it reveals. */
    private void recordSeen(Forward f, TensorPayload gradient) {
        float[] values = WireCodec.toFloats(gradient);
        int rows = gradient.shape()[0];
        int hidden = gradient.shape()[gradient.shape().length - 1];
        int perRow = values.length / rows;
        for (int r = 0; r < rows; r++) {
            float[] sum = new float[hidden];
            for (int i = r * perRow; i < (r + 1) * perRow; i++) {
                sum[(i - r * perRow) % hidden] += values[i];
            }
            state.seenGradients.add(new SeenGradient(f.device(), f.round(), f.seq(), f.batch().sampleIds()[r], sum));
        }
    }

    /**
     * The U-shape: drops the step that waits for its device's gradient, and refuses its micro-batch
     * with {@code reason}. The queue goes on.
     */
    private void abandonAwaiting(String reason) {
        ShardStep.Middle a = dropAwaiting();
        outbox.send(getContext().getSelf(), new TrainFailed(a.step(), new IllegalStateException(reason)));
    }

    /**
     * The U-shape, handing off: the step that waits for its device is dropped untrained, and its
     * micro-batch stays queued, so the shard's next incarnation runs it again from the snapshot (the
     * device answers the output again with the gradient it kept).
     */
    private void keepAwaitingForTheNextIncarnation() {
        ShardStep.Middle a = dropAwaiting();
        a.step().taken().keySet().forEach(QueuedMicroBatch::releaseAll);
        state.inProgress = null;
    }

    /** The step that waits for its device's gradient, no longer waiting: its graph is freed on the tensor thread. */
    private ShardStep.Middle dropAwaiting() {
        ShardStep.Middle a = state.awaiting;
        state.awaiting = null;
        TensorExecutor.shared().execute(a.graph()::close);
        return a;
    }

    private Behavior<Command> onTrained(Trained t) {
        if (time.fleet() != null) {
            Runnable gradient = heldGradient;
            heldGradient = null;
            long due = stepStarted + time.serverCompute(t.result().flops()).toNanos();
            outbox.sendLater(Duration.ofNanos(Math.max(0, due - time.nanos())), getContext().getSelf(), new StepDue(t, gradient));
            return this;
        }
        return trained(t);
    }

    private Behavior<Command> onStepDue(StepDue d) {
        if (d.heldGradient() != null) {
            d.heldGradient().run();
        }
        return trained(d.trained());
    }

    private Behavior<Command> trained(Trained t) {
        state.inProgress = null;
        if (state.resetTo != null) {
            applyReset(); // the step's work is dropped with the rest
            return this;
        }
        long now = JobClock.micros();
        ShardStep.Result r = t.result();
        for (Forward f : state.stepTrained(t.step(), r.loss(), r.seconds(), r.flops(), now)) {
            if (r.gradient() == null) {
                replies.credit(f, now);
            }
        }
        if (r.gradient() != null) {
            state.keepGradient(t.step().first().forward, r.gradient(), r.gradientBytes());
        }
        afterStep();
        return this;
    }

    private Behavior<Command> onTrainFailed(TrainFailed t) {
        state.inProgress = null;
        if (state.resetTo != null) {
            applyReset();
            return this;
        }
        Throwable cause = t.error() instanceof java.util.concurrent.CompletionException && t.error().getCause() != null ? t.error().getCause() : t.error();
        t.step().taken().forEach((q, n) -> {
            state.queue.remove(q);
            replies.reject(q.forward, "training step failed: " + cause.getMessage());
        });
        afterStep();
        return this;
    }

    private void applyReset() {
        ShardSnapshot s = state.resetTo;
        state.resetTo = null;
        state.resetTo(s);
        getContext().getLog().warn("shard {}: back to its checkpoint after round {} ({} steps); what it trained since is dropped",
                state.settings.shard(), s.round() + 1, s.stepsTotal());
        startNext();
    }

    private void saveAndStop() {
        var self = getContext().getSelf();
        var store = state.store;
        state.snapshot().whenComplete((s, err) -> {
            if (err != null) {
                LOG.error("shard {}: no snapshot to hand off", state.settings.shard(), err);
            } else {
                outbox.send(store, new ShardStore.Save(s, ServerShard.STORE_REPLIES.replyTo(self)));
            }
        });
    }

    private void afterStep() {
        if (state.pendingClose != null) {
            finishClose();
        }
        if (state.handingOff) {
            saveAndStop();
        } else {
            startNext();
        }
    }

    private Behavior<Command> onCloseRound(CloseRound m) {
        if (m.round() != state.round) {
            return this;
        }
        if (state.awaitingRewind) {
            getContext().getLog().info("shard {}: a close of round {} sent before its node was lost is dropped; the coordinator asks again",
                    state.settings.shard(), m.round() + 1);
            return this;
        }
        state.accepting = false;
        state.pendingClose = m;
        if (state.awaiting != null) {
            abandonAwaiting("round " + (m.round() + 1) + " closed while the shard waited for the device's gradient");
        } else if (state.inProgress == null) {
            finishClose();
        }
        return this;
    }

    private void finishClose() {
        CloseRound m = state.pendingClose;
        state.pendingClose = null;
        state.rejected.addAll(state.queue.close()); // asynchronous rounds keep late devices' work for the next
        outbox.send(m.replyTo(), state.closed(getContext().getSystem().address().toString()));
    }

    private Behavior<Command> onLoadAdapter(LoadAdapter m) {
        state.global = m.adapter();
        List<SegmentLearner> replicas = new ArrayList<>(state.learners.values());
        // queued on the tensor thread ahead of any later step, so no step sees a half-loaded adapter
        TensorExecutor.shared().execute(() -> replicas.forEach(l -> l.load(m.adapter())));
        return this;
    }
}
