package io.splitfed.actors.server;

import io.splitfed.actors.coordinator.RoundCoordinator;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.link.LinkShaper;
import io.splitfed.actors.metrics.JobClock;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.SegmentLearner;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
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
 * A server-side LoRA worker: trains the server part on micro-batches of cut activations as they
 * arrive, one at a time on the JVM's tensor thread, in arrival order across devices. Each trained
 * micro-batch is answered with a credit (SplitFrozen) or with its cut gradient, which in SFL is
 * sent as soon as the input-gradient pass ends, before the weight-gradient pass.
 */
public final class ServerShard extends AbstractBehavior<ServerShard.Command> {

    /** What a shard understands. */
    public sealed interface Command {}

    /** A device's micro-batch: labels and lengths (no token ids) and the cut activations. */
    public record Forward(int device, int splitPoint, int round, long seq, TokenBatch batch, TensorPayload activations,
            long sentMicros, ActorRef<DeviceActor.Command> replyTo) implements Command {}

    /** Micro-batches of {@code round} are now accepted. */
    public record RoundStarted(int round) implements Command {}

    /** Stop accepting {@code round}; report it, with the adapters, once the step in progress ends. */
    public record CloseRound(int round, ActorRef<RoundCoordinator.Command> replyTo) implements Command {}

    /** Replace every replica's adapter with the round's aggregate. */
    public record LoadAdapter(int round, LoraAdapter adapter) implements Command {}

    /** Fault injection: throw while handling this message, as a bug would. */
    public record Fail(String reason) implements Command {}

    private record Trained(Forward forward, float loss, double seconds, double flops, long gradientBytes, TensorPayload gradient) implements Command {}

    private record TrainFailed(Forward forward, Throwable error) implements Command {}

    /** Restarts on failure; {@code state} survives the restart. */
    public static Behavior<Command> create(ShardState state) {
        return Behaviors.supervise(Behaviors.<Command>setup(ctx -> new ServerShard(ctx, state)))
                .onFailure(SupervisorStrategy.restart().withLoggingEnabled(true));
    }

    private final ShardState state;

    private ServerShard(ActorContext<Command> context, ShardState state) {
        super(context);
        this.state = state;
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
                .onMessage(Fail.class, f -> {
                    throw new IllegalStateException("injected fault: " + f.reason());
                })
                .build();
    }

    private Behavior<Command> onRoundStarted(RoundStarted m) {
        if (m.round() <= state.round) {
            return this;
        }
        state.resetRound(m.round());
        state.accepting = true;
        List<Forward> early = new ArrayList<>(state.early);
        state.early.clear();
        for (Forward f : early) {
            onForward(f);
        }
        return this;
    }

    private Behavior<Command> onForward(Forward f) {
        if (f.round() > state.round) {
            state.early.add(f); // the RoundStarted for it is still on its way
            return this;
        }
        state.timeline.add(new TimelineEvent(f.device(), f.round(), f.seq(), TimelineEvent.Stage.RECEIVED, JobClock.micros(), "shard-" + state.settings.shard()));
        long last = state.lastTrained.getOrDefault(f.device(), -1L);
        if (f.seq() <= last || isQueued(f)) {
            state.duplicates++;
            reanswer(f);
            return this;
        }
        if (f.round() < state.round || !state.accepting) {
            reject(f, "round " + f.round() + " is closed");
            return this;
        }
        state.queue.add(f);
        if (state.inProgress == null) {
            startNext();
        }
        return this;
    }

    private boolean isQueued(Forward f) {
        if (state.inProgress != null && state.inProgress.device() == f.device() && state.inProgress.seq() == f.seq()) {
            return true;
        }
        for (Forward q : state.queue) {
            if (q.device() == f.device() && q.seq() == f.seq()) {
                return true;
            }
        }
        return false;
    }

    private void reject(Forward f, String reason) {
        String line = "device " + f.device() + " micro-batch " + f.seq() + " (round " + f.round() + ") rejected: " + reason;
        getContext().getLog().warn(line);
        state.rejected.add(line);
        f.replyTo().tell(new DeviceActor.Rejected(f.round(), f.seq(), reason));
    }

    /** A micro-batch seen before: answer it again, never train it twice. */
    private void reanswer(Forward f) {
        if (state.settings.sendsCutGradients()) {
            TensorPayload g = state.recentGradients.getOrDefault(f.device(), Map.of()).get(f.seq());
            if (g != null) {
                send(f, new DeviceActor.CutGradient(f.round(), f.seq(), g, JobClock.micros()), g.wireBytes());
            }
            // otherwise the step is still running and its gradient will be sent when it ends
        } else if (f.seq() <= state.lastTrained.getOrDefault(f.device(), -1L)) {
            send(f, new DeviceActor.Credit(f.round(), f.seq(), JobClock.micros()), 16);
        }
    }

    private void startNext() {
        Forward f = state.queue.poll();
        if (f == null) {
            return;
        }
        state.inProgress = f;
        SegmentLearner learner = state.learnerFor(f.device());
        boolean sfl = state.settings.sendsCutGradients();
        TensorPayload.Encoding downlink = state.settings.spec().pipeline().downlink();
        LinkShaper shaper = state.downlink(f.device());
        var scheduler = getContext().getSystem().scheduler();
        var dispatcher = getContext().getExecutionContext();
        AtomicLong gradientBytes = new AtomicLong();
        AtomicReference<TensorPayload> gradient = new AtomicReference<>();
        double flops = flops(f);
        CompletableFuture<Trained> work = TensorExecutor.shared().submit(() -> {
            long t0 = System.nanoTime();
            SegmentLearner.StepResult r = learner.trainStep(f.splitPoint(), f.batch(), f.activations(), !sfl ? null : g -> {
                // sent from the tensor thread the moment the input gradient exists, before the weight pass
                gradient.set(g);
                gradientBytes.set(g.wireBytes());
                DeviceActor.CutGradient msg = new DeviceActor.CutGradient(f.round(), f.seq(), g, JobClock.micros());
                Duration delay = shaper == null ? Duration.ZERO : shaper.send(g.wireBytes(), System.nanoTime());
                if (delay.isZero()) {
                    f.replyTo().tell(msg);
                } else {
                    scheduler.scheduleOnce(delay, () -> f.replyTo().tell(msg), dispatcher);
                }
            }, downlink);
            return new Trained(f, r.loss(), (System.nanoTime() - t0) / 1e9, flops, gradientBytes.get(), gradient.get());
        });
        getContext().pipeToSelf(work, (ok, err) -> err == null ? ok : new TrainFailed(f, err));
    }

    /** Forward plus backward of the server blocks: two forwards' worth, as the base is frozen. */
    private double flops(Forward f) {
        var c = state.settings.model().config();
        int blocks = c.numLayers() - f.splitPoint();
        return 2.0 * f.batch().batch() * f.batch().seqLen() * blocks * c.blockFlopsPerToken(f.batch().seqLen());
    }

    private Behavior<Command> onTrained(Trained t) {
        Forward f = t.forward();
        state.inProgress = null;
        state.lastTrained.merge(f.device(), f.seq(), Math::max);
        state.trainedSamples.merge(f.device(), f.batch().batch(), Integer::sum);
        state.replicaSamples.merge(state.settings.perDeviceReplicas() ? f.device() : ShardState.SHARED, f.batch().batch(), Integer::sum);
        state.trainSeconds += t.seconds();
        state.flops += t.flops();
        state.stepsTotal++;
        long now = JobClock.micros();
        state.losses.add(new StepLoss(f.round(), f.device(), f.seq(), t.loss(), now));
        state.timeline.add(new TimelineEvent(f.device(), f.round(), f.seq(), TimelineEvent.Stage.TRAINED, now, "shard-" + state.settings.shard()));
        if (t.gradient() != null) {
            state.bytesDown += t.gradientBytes();
            Map<Long, TensorPayload> recent = state.recentGradients.computeIfAbsent(f.device(), d -> new LinkedHashMap<>());
            recent.put(f.seq(), t.gradient());
            int keep = state.settings.spec().pipeline().window() * 2;
            while (recent.size() > keep) {
                recent.remove(recent.keySet().iterator().next());
            }
        } else {
            send(f, new DeviceActor.Credit(f.round(), f.seq(), now), 16);
        }
        afterStep();
        return this;
    }

    private Behavior<Command> onTrainFailed(TrainFailed t) {
        Forward f = t.forward();
        state.inProgress = null;
        Throwable cause = t.error() instanceof java.util.concurrent.CompletionException && t.error().getCause() != null ? t.error().getCause() : t.error();
        reject(f, "training step failed: " + cause.getMessage());
        afterStep();
        return this;
    }

    private void afterStep() {
        if (state.pendingClose != null) {
            finishClose();
        } else {
            startNext();
        }
    }

    private void send(Forward f, DeviceActor.Command msg, long bytes) {
        LinkShaper shaper = state.downlink(f.device());
        Duration delay = shaper == null ? Duration.ZERO : shaper.send(bytes, System.nanoTime());
        if (delay.isZero()) {
            f.replyTo().tell(msg);
        } else {
            getContext().scheduleOnce(delay, f.replyTo(), msg);
        }
    }

    private Behavior<Command> onCloseRound(CloseRound m) {
        if (m.round() != state.round) {
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
        for (Forward f : state.queue) {
            state.rejected.add("device " + f.device() + " micro-batch " + f.seq() + " dropped: round " + f.round() + " closed before it was trained");
        }
        state.queue.clear();
        Map<Integer, LoraAdapter> replicas = new LinkedHashMap<>();
        Map<Integer, Double> weights = new HashMap<>();
        state.learners.forEach((key, learner) -> {
            replicas.put(key, learner.adapter().copy());
            weights.put(key, (double) state.replicaSamples.getOrDefault(key, 0));
        });
        ShardRoundReport report = new ShardRoundReport(state.settings.shard(), state.round, state.trainedSamples, state.duplicates,
                state.rejected, state.losses, state.trainSeconds, state.flops, state.bytesDown, state.timeline);
        m.replyTo().tell(new RoundCoordinator.ShardClosed(report, replicas, weights));
    }

    private Behavior<Command> onLoadAdapter(LoadAdapter m) {
        state.global = m.adapter();
        List<SegmentLearner> replicas = new ArrayList<>(state.learners.values());
        // queued on the tensor thread ahead of any later step, so no step sees a half-loaded adapter
        TensorExecutor.shared().execute(() -> replicas.forEach(l -> l.load(m.adapter())));
        return this;
    }
}
