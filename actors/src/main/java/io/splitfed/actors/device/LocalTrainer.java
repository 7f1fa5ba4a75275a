package io.splitfed.actors.device;

import io.splitfed.actors.device.DeviceActor.Command;
import io.splitfed.actors.metrics.JobClock;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.train.SegmentLearner;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A device that trains the whole model where it is (FedLoRA, and centralized LoRA as one device):
 * one local step at a time, its loss kept for the round's report; the coordinator averages the
 * devices' adapters after the round.
 */
final class LocalTrainer extends DeviceBehavior {

    private record LocalStep(int round, long seq, int samples, float loss, double seconds, double flops) implements DeviceActor.Internal {}

    LocalTrainer(ActorContext<Command> context, TimerScheduler<Command> timers, DeviceState state) {
        super(context, timers, state);
        if (state.active) {
            pump(); // restarted mid-round: the step in flight was lost with the old incarnation
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return commonReceive().onMessage(LocalStep.class, this::onLocalStep).build();
    }

    @Override
    void pump() {
        while (state.active && state.issued < state.steps && state.outstanding() < 1) {
            TokenBatch batch = state.settings.batcher().apply(state.data.next());
            long seq = state.nextSeq++;
            state.issued++;
            state.pipeline.issued(seq);
            state.computing++;
            int round = state.round;
            double flops = 2 * blockFlops(batch) * state.settings.model().numLayers();
            SegmentLearner learner = state.learner;
            CompletableFuture<Command> work = TensorExecutor.shared().submit(() -> {
                long t0 = System.nanoTime();
                SegmentLearner.StepResult r = learner.trainStep(batch, null, null, null);
                return new LocalStep(round, seq, batch.batch(), r.loss(), (System.nanoTime() - t0) / 1e9, flops);
            });
            getContext().pipeToSelf(work, (ok, err) -> err == null ? ok : new ComputeFailed(round, seq, err));
        }
    }

    @Override
    Behavior<Command> release(Command delayed) {
        if (delayed instanceof LocalStep s) {
            localStepDone(s);
        }
        return this;
    }

    private Behavior<Command> onLocalStep(LocalStep s) {
        Duration extra = heldFor(s.seconds(), 0, s.flops());
        if (!extra.isZero()) {
            outbox.sendLater(extra, getContext().getSelf(), new Release(s));
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
}
