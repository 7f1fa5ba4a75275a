package io.splitfed.actors.server;

import io.splitfed.actors.link.LinkShaper;
import io.splitfed.actors.metrics.JobClock;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.actors.server.ServerShard.Checkpointed;
import io.splitfed.actors.server.ServerShard.CloseRound;
import io.splitfed.actors.server.ServerShard.Closed;
import io.splitfed.actors.server.ServerShard.Command;
import io.splitfed.actors.server.ServerShard.Credit;
import io.splitfed.actors.server.ServerShard.CutGradient;
import io.splitfed.actors.server.ServerShard.Forward;
import io.splitfed.actors.server.ServerShard.HandOff;
import io.splitfed.actors.server.ServerShard.Load;
import io.splitfed.actors.server.ServerShard.LoadAdapter;
import io.splitfed.actors.server.ServerShard.Rejected;
import io.splitfed.actors.server.ServerShard.Reply;
import io.splitfed.actors.server.ServerShard.ReportLoad;
import io.splitfed.actors.server.ServerShard.RoundStarted;
import io.splitfed.actors.server.ServerShard.Step;
import io.splitfed.actors.server.ServerShard.Stored;
import io.splitfed.actors.server.ServerShard.TakeCheckpoint;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.SegmentLearner;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The server-side LoRA worker behind {@link ServerShard}'s protocol: trains the server part on
 * micro-batches of cut activations as they arrive, one step at a time on the JVM's tensor thread,
 * in arrival order across devices. Each trained micro-batch is answered with a credit (SplitFrozen)
 * or with its cut gradient, which in SFL is sent as soon as the input-gradient pass ends, before
 * the weight-gradient pass. A micro-batch seen before is answered again, never trained twice.
 */
final class LoraWorker extends AbstractBehavior<Command> {

    private record Trained(Step step, float loss, double seconds, double flops, long gradientBytes, TensorPayload gradient)
            implements ServerShard.Internal {}

    private record TrainFailed(Step step, Throwable error) implements ServerShard.Internal {}

    /** For what happens off the actor's thread (its own log is the actor's alone). */
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LoraWorker.class);

    private final ShardState state;
    private final Outbox outbox;

    LoraWorker(ActorContext<Command> context, ShardState state) {
        super(context);
        this.outbox = Outbox.get(context.getSystem());
        this.state = state;
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
                .onMessage(TrainFailed.class, this::onTrainFailed)
                .onMessage(ServerShard.Reset.class, m -> {
                    state.resetTo = m.snapshot();
                    if (state.inProgress == null) {
                        applyReset();
                    }
                    return this;
                })
                .onMessage(HandOff.class, m -> {
                    state.handingOff = true;
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
        List<Forward> early = new ArrayList<>(state.early);
        state.early.clear();
        for (Forward f : early) {
            onForward(f);
        }
        if (state.inProgress == null) {
            startNext();
        }
        return this;
    }

    private Behavior<Command> onForward(Forward f) {
        String problem = ForwardCheck.problem(f, state.settings, state.round);
        if (problem != null) {
            state.strikes.merge(f.device(), 1, Integer::sum);
            reject(f, problem);
            return this;
        }
        if (f.round() > state.round) {
            state.early.add(f); // the RoundStarted for it is still on its way
            return this;
        }
        state.timeline.add(new TimelineEvent(f.device(), f.round(), f.seq(), TimelineEvent.Stage.RECEIVED, JobClock.micros(), "shard-" + state.settings.shard()));
        if (state.trained(f.device()).contains(f.seq()) || state.find(f.device(), f.seq()) != null) {
            state.duplicates++;
            reanswer(f);
            return this;
        }
        if (f.round() < state.round || !state.accepting) {
            if (!state.settings.spec().robustness().asynchronous()) {
                reject(f, "round " + f.round() + " is closed");
                return this;
            }
            if (!state.accepting) {
                state.early.add(f); // a late device's work: trained once the next round opens
                return this;
            }
            // a late device's work, trained in this round (in SplitFrozen, frozen device blocks never make it stale)
        }
        state.queue.add(new QueuedMicroBatch(f, state.arrivals++));
        if (state.inProgress == null) {
            startNext();
        }
        return this;
    }

    private void reject(Forward f, String reason) {
        String line = "device " + f.device() + " micro-batch " + f.seq() + " (round " + f.round() + ") rejected: " + reason;
        getContext().getLog().warn(line);
        state.rejected.add(line);
        outbox.send(f.replyTo(), new Rejected(f.round(), f.seq(), reason));
    }

    /** A micro-batch seen before: answer it again, never train it twice. */
    private void reanswer(Forward f) {
        if (state.settings.sendsCutGradients()) {
            TensorPayload g = state.recentGradients.getOrDefault(f.device(), Map.of()).get(f.seq());
            if (g != null) {
                send(f, new CutGradient(f.round(), f.seq(), g, JobClock.micros()), g.wireBytes());
            }
            // otherwise the step is still running and its gradient will be sent when it ends
        } else if (state.trained(f.device()).contains(f.seq())) {
            send(f, new Credit(f.round(), f.seq(), JobClock.micros()), 16);
        }
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
        QueuedMicroBatch anchor = state.laggard();
        if (anchor == null) {
            return;
        }
        int mix = state.settings.spec().server().mixDevices();
        MixedBatch chosen;
        if (state.settings.sendsCutGradients() || mix == 1 || (anchor.untouched() && state.pool(anchor.forward.splitPoint()).size() == 1)) {
            chosen = MixedBatch.whole(anchor);
        } else {
            chosen = MixedBatch.take(state.pool(anchor.forward.splitPoint()), state.settings.spec().training().microBatch(), mix,
                    state.settings.model().config().hiddenSize(), state::progressAfter);
        }
        TokenBatch batch = chosen.batch();
        TensorPayload activations = chosen.activations();
        Map<QueuedMicroBatch, Integer> taken = chosen.taken();
        Step step = new Step(taken, batch.batch());
        state.inProgress = step;
        boolean sfl = state.settings.sendsCutGradients();
        Forward f = step.first().forward;
        SegmentLearner learner = state.learnerFor(f.device());
        TensorPayload.Encoding downlink = state.settings.spec().pipeline().downlink();
        LinkShaper shaper = state.downlink(f.device());
        var dispatcher = getContext().getExecutionContext();
        AtomicLong gradientBytes = new AtomicLong();
        AtomicReference<TensorPayload> gradient = new AtomicReference<>();
        double flops = flops(f.splitPoint(), batch);
        TokenBatch trainBatch = batch;
        TensorPayload trainActs = activations;
        CompletableFuture<Trained> work = TensorExecutor.shared().submit(() -> {
            long t0 = System.nanoTime();
            SegmentLearner.StepResult r = learner.trainStep(f.splitPoint(), trainBatch, trainActs, !sfl ? null : g -> {
                // sent from the tensor thread the moment the input gradient exists, before the weight pass
                gradient.set(g);
                gradientBytes.set(g.wireBytes());
                CutGradient msg = new CutGradient(f.round(), f.seq(), g, JobClock.micros());
                Duration delay = shaper == null ? Duration.ZERO : shaper.send(g.wireBytes(), System.nanoTime());
                if (delay.isZero()) {
                    // in a cluster the send serializes the gradient: off the tensor thread, so the weight pass starts now
                    dispatcher.execute(() -> outbox.send(f.replyTo(), msg));
                } else {
                    outbox.sendLater(delay, f.replyTo(), msg);
                }
            }, downlink);
            return new Trained(step, r.loss(), (System.nanoTime() - t0) / 1e9, flops, gradientBytes.get(), gradient.get());
        });
        getContext().pipeToSelf(work, (ok, err) -> err == null ? ok : new TrainFailed(step, err));
    }

    /** Forward plus backward of the server blocks: two forwards' worth, as the base is frozen. */
    private double flops(int splitPoint, TokenBatch batch) {
        var c = state.settings.model().config();
        int blocks = c.numLayers() - splitPoint;
        return 2.0 * batch.batch() * batch.seqLen() * blocks * c.blockFlopsPerToken(batch.seqLen());
    }

    private Behavior<Command> onTrained(Trained t) {
        state.inProgress = null;
        if (state.resetTo != null) {
            applyReset(); // the step's work is dropped with the rest
            return this;
        }
        state.trainSeconds += t.seconds();
        state.flops += t.flops();
        state.stepsTotal++;
        long now = JobClock.micros();
        Forward first = t.step().first().forward;
        state.losses.add(new StepLoss(first.round(), first.device(), first.seq(), t.loss(), now));
        state.timeline.add(new TimelineEvent(first.device(), first.round(), first.seq(), TimelineEvent.Stage.STEP, now, "shard-" + state.settings.shard(),
                (long) (t.seconds() * 1e6)));
        t.step().taken().forEach((q, n) -> {
            Forward f = q.forward;
            state.trainedSamples.merge(f.device(), n, Integer::sum);
            state.replicaSamples.merge(state.settings.perDeviceReplicas() ? f.device() : ShardState.SHARED, n, Integer::sum);
            if (!q.trained(n)) {
                return;
            }
            state.queue.remove(q);
            state.trained(f.device()).add(f.seq());
            state.timeline.add(new TimelineEvent(f.device(), f.round(), f.seq(), TimelineEvent.Stage.TRAINED, now, "shard-" + state.settings.shard(),
                    (long) (t.seconds() * 1e6)));
            if (t.gradient() == null) {
                send(f, new Credit(f.round(), f.seq(), now), 16);
            }
        });
        if (t.gradient() != null) {
            state.bytesDown += t.gradientBytes();
            Map<Long, TensorPayload> recent = state.recentGradients.computeIfAbsent(first.device(), d -> new LinkedHashMap<>());
            recent.put(first.seq(), t.gradient());
            int keep = state.settings.spec().pipeline().window() * 2;
            while (recent.size() > keep) {
                recent.remove(recent.keySet().iterator().next());
            }
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
            reject(q.forward, "training step failed: " + cause.getMessage());
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

    private void send(Forward f, Reply msg, long bytes) {
        LinkShaper shaper = state.downlink(f.device());
        Duration delay = shaper == null ? Duration.ZERO : shaper.send(bytes, System.nanoTime());
        if (delay.isZero()) {
            outbox.send(f.replyTo(), msg);
        } else {
            outbox.sendLater(delay, f.replyTo(), msg);
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
        if (state.inProgress == null) {
            finishClose();
        }
        return this;
    }

    private void finishClose() {
        CloseRound m = state.pendingClose;
        state.pendingClose = null;
        if (!state.settings.spec().robustness().asynchronous()) {
            for (QueuedMicroBatch q : state.queue) {
                state.rejected.add("device " + q.forward.device() + " micro-batch " + q.forward.seq() + " dropped: round " + q.forward.round()
                        + " closed with " + q.remaining() + " of its rows untrained");
            }
            state.queue.clear();
        } // asynchronous rounds: late devices' queued micro-batches stay, and train when the next round opens
        Map<Integer, LoraAdapter> replicas = new LinkedHashMap<>();
        Map<Integer, Double> weights = new HashMap<>();
        state.learners.forEach((key, learner) -> {
            replicas.put(key, learner.adapter().copy());
            weights.put(key, (double) state.replicaSamples.getOrDefault(key, 0));
        });
        ShardRoundReport report = new ShardRoundReport(state.settings.shard(), state.round, state.trainedSamples, state.duplicates,
                state.rejected, state.losses, state.trainSeconds, state.flops, state.bytesDown, state.timeline, new java.util.LinkedHashMap<>(state.strikes),
                getContext().getSystem().address().toString());
        outbox.send(m.replyTo(), new Closed(report, replicas, weights));
    }

    private Behavior<Command> onLoadAdapter(LoadAdapter m) {
        state.global = m.adapter();
        List<SegmentLearner> replicas = new ArrayList<>(state.learners.values());
        // queued on the tensor thread ahead of any later step, so no step sees a half-loaded adapter
        TensorExecutor.shared().execute(() -> replicas.forEach(l -> l.load(m.adapter())));
        return this;
    }
}
