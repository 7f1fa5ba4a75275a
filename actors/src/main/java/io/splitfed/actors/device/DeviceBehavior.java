package io.splitfed.actors.device;

import io.splitfed.actors.checkpoint.DeviceSnapshot;
import io.splitfed.actors.device.DeviceActor.AbortRound;
import io.splitfed.actors.device.DeviceActor.Checkpointed;
import io.splitfed.actors.device.DeviceActor.Command;
import io.splitfed.actors.device.DeviceActor.Profile;
import io.splitfed.actors.device.DeviceActor.Profiled;
import io.splitfed.actors.device.DeviceActor.Progress;
import io.splitfed.actors.device.DeviceActor.Report;
import io.splitfed.actors.device.DeviceActor.Resume;
import io.splitfed.actors.device.DeviceActor.RoundDone;
import io.splitfed.actors.device.DeviceActor.StartRound;
import io.splitfed.actors.device.DeviceActor.TakeCheckpoint;
import io.splitfed.actors.fleet.FleetDevice;
import io.splitfed.actors.job.TrainingMode;
import io.splitfed.actors.link.Links;
import io.splitfed.actors.link.SimulatedLinks;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.JobClock;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.time.JobTime;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tokenizer.SequenceEncoder;
import io.splitfed.model.train.SegmentLearner;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.ReceiveBuilder;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What every device does, whichever way it trains: starts and aborts rounds, profiles itself,
 * answers checkpoints and resumes from one, counts what was answered, and reports its round to the
 * coordinator from its own actor. {@link SplitDevice} streams cut activations to a server worker;
 * {@link LocalTrainer} trains the whole model in place.
 */
abstract class DeviceBehavior extends AbstractBehavior<Command> {

    record ProfileTaken(DeviceProfile profile, ActorRef<Report> replyTo, Throwable error) implements DeviceActor.Internal {}

    record ComputeFailed(int round, long seq, Throwable error) implements DeviceActor.Internal {}

    /** A result held back for the extra time a slowed device's hardware would take. */
    record Release(Command delayed) implements DeviceActor.Internal {}

    final DeviceState state;
    final TimerScheduler<Command> timers;
    /** Every message this device sends leaves through it. */
    final Outbox outbox;
    /** What crosses the device's link leaves through them: the Outbox itself, or simulated links where the job asks for them. */
    final Links links;

    /** The job's clock: the host's, or a fleet's emulated time. */
    final JobTime time;

    DeviceBehavior(ActorContext<Command> context, TimerScheduler<Command> timers, DeviceState state) {
        super(context);
        this.outbox = Outbox.get(context.getSystem());
        this.state = state;
        this.timers = timers;
        this.time = JobTime.get(context.getSystem());
        if (state.links == null) { // kept in the state, so a restarted device's messages stay behind those still on its link
            FleetDevice profile = time.device(state.settings.device());
            if (profile != null) {
                state.uplink = profile.link().uplinkShaper();
            }
            state.links = state.settings.spec().links().enabled() || state.faults || time.emulated()
                    ? SimulatedLinks.device(context.getSystem(), outbox, () -> state.uplink, state.conditions)
                    : Links.direct(outbox);
        }
        this.links = state.links;
    }

    /** Issues micro-batches while the round has some left and the window has room. */
    abstract void pump();

    /** Handles a result that a slowdown held back. */
    abstract Behavior<Command> release(Command delayed);

    /** A micro-batch was settled without an answer (failed): whatever waited on it may go on. */
    void settled() {}

    /** The handlers every device has; a subclass adds its own and builds. */
    ReceiveBuilder<Command> commonReceive() {
        return newReceiveBuilder()
                .onMessage(StartRound.class, this::onStartRound)
                .onMessage(AdapterFetched.class, m -> startRound(m.start()))
                .onMessage(Profile.class, this::onProfile)
                .onMessage(ProfileTaken.class, this::onProfiled)
                .onMessage(TakeCheckpoint.class, this::onTakeCheckpoint)
                .onMessage(Resume.class, m -> {
                    if (state.active) {
                        // a job host that took over from a lost one: the round it was in is run again from the checkpoint
                        getContext().getLog().warn("device {}: a new coordinator resumes the job after round {}; dropping round {} in progress",
                                state.settings.device(), m.snapshot().round() + 1, state.round + 1);
                        state.active = false;
                        dropInFlight();
                    }
                    state.resumedFrom(m.snapshot());
                    getContext().getLog().info("device {}: resumed after round {}", state.settings.device(), m.snapshot().round() + 1);
                    return this;
                })
                .onMessage(AbortRound.class, this::onAbort)
                .onMessage(ComputeFailed.class, this::onComputeFailed)
                .onMessage(Release.class, r -> release(r.delayed()));
    }

    /** On a fleet's time: the round's global adapter has come down the device's link. */
    private record AdapterFetched(StartRound start) implements DeviceActor.Internal {}

    final Behavior<Command> onStartRound(StartRound m) {
        if (m.round() <= state.round && state.active) {
            return this;
        }
        FleetDevice profile = state.settings.mode() == TrainingMode.CENTRALIZED ? null : time.device(state.settings.device()); // no link: the data is at the server
        if (profile != null && m.global() != null && state.learner != null && profile.link().downlinkMbps() > 0) {
            // the global adapter takes its time down the device's link before the round can start there
            double seconds = profile.link().downSeconds(4.0 * m.global().parameterCount()) + profile.link().latencySeconds();
            outbox.sendLater(Duration.ofNanos((long) (seconds * 1e9)), getContext().getSelf(), new AdapterFetched(m));
            return this;
        }
        return startRound(m);
    }

    private Behavior<Command> startRound(StartRound m) {
        if (m.round() <= state.round && state.active) {
            return this;
        }
        dropInFlight();
        state.apply(m.plan(), time.device(state.settings.device()), getContext().getLog());
        state.roundStart = state.data.cursor();
        state.roundFirstSeq = state.nextSeq;
        state.resetRound(m.round(), m.steps());
        state.shard = state.route != null ? state.route : m.shard();
        state.coordinator = m.coordinator();
        state.progress = m.progress();
        if (m.global() != null && state.learner != null) {
            DeviceState s = state;
            TensorExecutor.shared().execute(() -> s.load(m.global())); // ahead of this round's steps
        }
        pump();
        finishIfDone();
        return this;
    }

    final double blockFlops(TokenBatch b) {
        return state.settings.model().config().blockFlops(b.batch(), b.seqLen());
    }

    /**
     * How long a compute result is held back before it counts as done: on a fleet's time, what the
     * compute ({@code forwardFlops} of inference, {@code trainFlops} of training) takes on the
     * device's profile, times any slowdown; otherwise the extra time a slowed device's hardware would
     * take over the {@code seconds} it took here.
     */
    final Duration heldFor(double seconds, double forwardFlops, double trainFlops) {
        if (time.fleet() != null) {
            Duration d = state.settings.mode() == TrainingMode.CENTRALIZED
                    ? time.serverCompute(forwardFlops + trainFlops) // centralized training runs on the server
                    : time.deviceCompute(state.settings.device(), forwardFlops, trainFlops);
            double slow = state.conditions.slowdown();
            return slow > 1.0 ? Duration.ofNanos((long) (d.toNanos() * slow)) : d;
        }
        return extraDelay(seconds);
    }

    /** A slowed device holds each result back for the extra time its slower hardware would take. */
    private Duration extraDelay(double seconds) {
        return state.conditions.slowdown() > 1.0 ? Duration.ofNanos((long) ((state.conditions.slowdown() - 1.0) * seconds * 1e9)) : Duration.ZERO;
    }

    final void answered(int round, long seq, int samples, long bytes) {
        state.pipeline.settled(seq);
        state.answered++;
        state.samples += samples;
        state.bytesDown += bytes;
        state.timeline.add(new TimelineEvent(state.settings.device(), round, seq, TimelineEvent.Stage.ANSWERED, JobClock.micros(), "device-" + state.settings.device()));
        float loss = state.localLosses.isEmpty() ? Float.NaN : state.localLosses.get(state.localLosses.size() - 1).loss();
        if (state.progress != null) {
            outbox.send(state.progress, new Progress(state.settings.device(), round, state.answered, state.steps, samples,
                    state.bytesUp, state.bytesDown, state.pipeline.inFlight(), loss));
        }
        pump();
        finishIfDone();
    }

    final void finishIfDone() {
        if (!state.active || state.answered < state.steps) {
            return;
        }
        state.active = false;
        LoraAdapter update = links.outgoing(state.settings.device(), state.adapter());
        DeviceRoundStats stats = new DeviceRoundStats(state.settings.device(), state.round, state.samples, state.answered, state.cachedMicroBatches,
                state.computeSeconds, state.flops, state.bytesUp + (update == null ? 0 : 4 * update.parameterCount()), state.bytesDown,
                state.resent, state.localLosses, state.timeline, upcomingTokens(state.steps), state.plan.uplinkMbps(), state.plan.uplinkWatts());
        // every step of the round has completed on the tensor thread, so the adapter is settled
        RoundDone done = new RoundDone(state.settings.device(), state.round, stats, update == null ? null : update.copy(), getContext().getSelf());
        if (time.fleet() != null && update != null && state.settings.mode() != TrainingMode.CENTRALIZED) {
            links.up(state.settings.device(), state.coordinator, done, 4 * update.parameterCount()); // on a fleet's time, the update takes its uplink's
        } else {
            outbox.send(state.coordinator, done);
        }
    }

    final Behavior<Command> onTakeCheckpoint(TakeCheckpoint m) {
        var cursor = state.data.cursor();
        long seq = state.nextSeq;
        int device = state.settings.device();
        int round = state.round;
        DeviceState d = state;
        // the optimizer's moments are the tensor thread's: copied there, after every step this device queued
        CompletableFuture<DeviceSnapshot> snap = TensorExecutor.shared().submit(() ->
                new DeviceSnapshot(device, round, cursor, seq, d.learner == null ? null : d.optimizerState().copy()));
        snap.whenComplete((s, err) -> {
            if (err == null) {
                outbox.send(m.replyTo(), new Checkpointed(m.roundsDone(), s));
            }
        });
        return this;
    }

    /**
     * Times a frozen forward pass of one micro-batch of this device's own data through its blocks
     * (the whole model outside the split modes): the fastest of three, after two untimed passes to
     * warm up. A slowed device reports the speed it was slowed to.
     */
    final Behavior<Command> onProfile(Profile m) {
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
    final long upcomingTokens(int steps) {
        long tokens = 0;
        for (List<SequenceEncoder.Encoded> rows : state.data.upcoming(steps)) {
            tokens += (long) rows.size() * state.settings.batcher().apply(rows).seqLen();
        }
        return tokens;
    }

    final Behavior<Command> onProfiled(ProfileTaken p) {
        if (p.error() != null) {
            getContext().getLog().error("device {}: profiling failed: {}", state.settings.device(), p.error().toString());
            return this;
        }
        getContext().getLog().debug("device {}: {}", state.settings.device(), p.profile());
        outbox.send(p.replyTo(), new Profiled(p.profile()));
        return this;
    }

    final Behavior<Command> onAbort(AbortRound m) {
        if (m.round() == state.round && state.active) {
            getContext().getLog().info("device {}: round {} closed without it; dropping {} micro-batches in flight", state.settings.device(), m.round(), state.pipeline.inFlight());
            state.active = false;
            dropInFlight();
        }
        return this;
    }

    final void dropInFlight() {
        state.withLabels.clear();
        state.outputGradients.clear();
        state.tailsRunning.clear();
        List<SegmentLearner.InFlight> graphs = state.pipeline.drop();
        if (!graphs.isEmpty()) {
            TensorExecutor.shared().execute(() -> graphs.forEach(SegmentLearner.InFlight::close));
        }
    }

    final void closeGraph(SegmentLearner.InFlight graph) {
        if (graph != null) {
            TensorExecutor.shared().execute(graph::close);
        }
    }

    final Behavior<Command> onComputeFailed(ComputeFailed f) {
        state.computing--;
        state.pipeline.backwardEnded(f.seq());
        Throwable cause = f.error().getCause() != null ? f.error().getCause() : f.error();
        getContext().getLog().error("device {}: micro-batch {} failed on the device: {}", state.settings.device(), f.seq(), cause.toString());
        if (state.tailsRunning.remove(f.seq())) { // the U-shape's tail step: the micro-batch was sent, and waits no more
            state.pipeline.refused(f.round() == state.round, f.seq());
            state.withLabels.remove(f.seq());
        }
        if (f.round() == state.round && state.active) {
            settledUnanswered(f.seq());
        }
        return this;
    }

    /** Micro-batch {@code seq} is settled without an answer (refused, or failed here): it counts, and the round goes on. */
    final void settledUnanswered(long seq) {
        state.pipeline.settled(seq);
        state.answered++;
        pump();
        settled();
        finishIfDone();
    }
}
