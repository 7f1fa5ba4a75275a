package io.splitfed.actors.device;

import io.splitfed.actors.fleet.FleetDevice;
import io.splitfed.actors.link.DeviceConditions;
import io.splitfed.actors.link.DelayLine;
import io.splitfed.actors.link.LinkShaper;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.actors.plan.DevicePlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.nn.SplitPoint;
import io.splitfed.model.nn.UShapedSplit;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.OptimizerState;
import io.splitfed.model.train.SegmentLearner;

import org.apache.pekko.actor.typed.ActorRef;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A device's memory, kept outside its behaviour so that a restart by supervision resumes: the
 * data cursor, the activation cache, its adapter and optimizer, the sequence counter, and the
 * micro-batches sent but not yet answered (resent after a restart; the shard never trains one
 * twice). Touched only by the actor.
 */
public final class DeviceState {

    /** Sends this device's micro-batches through {@code route} instead of the shard named in StartRound. */
    public DeviceState routeThrough(ActorRef<ServerShard.Command> route) {
        this.route = route;
        return this;
    }


    final DeviceSettings settings;
    final DeviceData data;
    final ActivationCache cache;
    /** What the device trains: its blocks (SFL), the whole model (FedLoRA, centralized), or the U-shape's tail in SplitFrozen. */
    final SegmentLearner learner;
    /** The U-shape: what trains the tail and head; {@link #learner} itself in SplitFrozen, a second learner in SFL. */
    final SegmentLearner tailLearner;
    /** What the current round runs with (the coordinator's plan), and what follows from it. */
    DevicePlan plan;
    LinkShaper uplink;
    ModelSegment devicePart;
    TensorPayload.Encoding uplinkEncoding;

    long nextSeq;
    /** The secret behind this device's noise on the cut (privacy.noise-sigma): drawn here, never sent, so no server can recompute the draws. */
    final long noiseSalt = new java.security.SecureRandom().nextLong();
    /** The U-shape: each sent micro-batch's labels (its batch as the head needs it), until the shard credits it. */
    final Map<Long, TokenBatch> withLabels = new HashMap<>();
    /** The U-shape: the gradients sent back at the server's output, until credited, to answer a server output sent again. */
    final Map<Long, ServerShard.OutputGradient> outputGradients = new HashMap<>();
    /** The U-shape: micro-batches whose tail step runs on the tensor thread. */
    final Set<Long> tailsRunning = new HashSet<>();
    /** What fault injection imposes: slower compute (read here), a worse uplink and a Byzantine scale (read by the SimulatedLinks). */
    final DeviceConditions conditions = new DeviceConditions();
    /** Where the current round began in the data, to run it again if its shard loses it. */
    DeviceData.Cursor roundStart;
    /**
     * The round's first sequence number. A rewound round sends the same micro-batches under the same
     * numbers, so a worker that already trained one (a message that reached the shard's new
     * incarnation before the rewind) answers it again instead of training its rows twice.
     */
    long roundFirstSeq;

    int round = -1;
    boolean active;
    int steps;
    int issued;
    int answered;
    int computing;
    /**
     * Where this device sends its micro-batches when it must not take the coordinator's word for
     * it: in a cluster, a route on the device's own node to its shard, wherever the shard lives.
     */
    ActorRef<ServerShard.Command> route;

    /** The round's micro-batches between issue and answer, and the rules they keep: window, resends, SFL's step order. */
    final DevicePipeline pipeline;
    /** Computed micro-batches a slowed device holds back for the time its slower hardware would take; let out in order. */
    final DelayLine<DeviceActor.Command> held = new DelayLine<>();
    ActorRef<ServerShard.Command> shard;
    ActorRef<DeviceActor.Report> coordinator;
    /** Where answered micro-batches are reported; null when nobody watches the job. */
    ActorRef<DeviceActor.Report> progress;

    int samples;
    int cachedMicroBatches;
    double computeSeconds;
    double flops;
    long bytesUp;
    long bytesDown;
    int resent;
    List<StepLoss> localLosses = new ArrayList<>();
    List<TimelineEvent> timeline = new ArrayList<>();

    /** Whether fault injection reaches this device: its links are then simulated ({@link io.splitfed.actors.link.SimulatedLinks}). */
    boolean faults;
    /** What crosses the device's link leaves through them; set by the device's first behaviour. */
    io.splitfed.actors.link.Links links;

    /** What fault injection may change about this device; from now on its links are simulated. */
    public DeviceConditions acceptFaults() {
        faults = true;
        return conditions;
    }

    public DeviceState(DeviceSettings settings, DeviceData data) {
        this.settings = settings;
        this.data = data;
        var spec = settings.spec();
        boolean split = spec.mode().isSplit();
        this.devicePart = split ? ModelSegment.devicePart(settings.model(), settings.splitPoint()) : null;
        this.uplinkEncoding = spec.pipeline().uplink();
        this.pipeline = new DevicePipeline(spec.pipeline().ackTimeout());
        this.plan = new DevicePlan(settings.splitPoint(), spec.training().microBatch(), uplinkEncoding.bits(), 0);
        this.cache = spec.mode() == io.splitfed.actors.job.TrainingMode.SPLITFROZEN && spec.pipeline().activationCache()
                ? new ActivationCache(spec.pipeline().cacheBytesPerDevice(), settings.model().config().hiddenSize())
                : null;
        long seed = spec.seed() * 104729 + settings.device();
        UShapedSplit u = settings.uShape();
        LoraAdapter initial = settings.initialAdapter();
        if (initial != null && u != null && spec.mode() == io.splitfed.actors.job.TrainingMode.SFL) {
            // the U-shape in SFL: the blocks before the cut and the tail train apart, each on its own gradient
            learner = SegmentLearner.create(devicePart, new SplitPoint(settings.splitPoint()).deviceSide(initial).copy(),
                    new AdamW(spec.training().optimizer(), settings.schedule()), SegmentLearner.Backward.FUSED, seed);
            tailLearner = SegmentLearner.create(u.tailPart(settings.model(), settings.head()), u.tail(initial).copy(),
                    new AdamW(spec.training().optimizer(), settings.schedule()), SegmentLearner.Backward.FUSED, seed ^ 0x7A11L);
        } else if (initial != null) {
            ModelSegment segment = u != null ? u.tailPart(settings.model(), settings.head())
                    : split ? devicePart : ModelSegment.whole(settings.model(), settings.head());
            learner = SegmentLearner.create(segment, initial.copy(), new AdamW(spec.training().optimizer(), settings.schedule()),
                    SegmentLearner.Backward.FUSED, seed);
            tailLearner = u != null ? learner : null;
        } else {
            learner = null;
            tailLearner = null;
        }
        this.uplink = spec.links().enabled() ? new LinkShaper(spec.links().uplinkMbps(), spec.links().latency()) : null;
    }

    /** Goes on from a checkpoint: the data cursor, the sequence numbers and the optimizer's moments. */
    public DeviceState resumedFrom(io.splitfed.actors.checkpoint.DeviceSnapshot s) {
        data.restore(s.cursor());
        nextSeq = s.nextSeq();
        round = s.round();
        if (learner != null && s.optimizer() != null) {
            io.splitfed.model.tensor.TensorExecutor.shared().execute(() -> restoreOptimizer(s.optimizer()));
        }
        return this;
    }

    /** Whether the U-shape's tail trains apart from the device's blocks (SFL). */
    private boolean twoLearners() {
        return tailLearner != null && tailLearner != learner;
    }

    /** What the device trained, both learners' in one adapter; null where it trains nothing. Read after the round's steps. */
    LoraAdapter adapter() {
        if (learner == null) {
            return null;
        }
        return twoLearners() ? LoraAdapter.union(learner.adapter(), tailLearner.adapter()) : learner.adapter();
    }

    /** Takes up {@code global}'s values, each learner its own keys. On the tensor thread. */
    void load(LoraAdapter global) {
        if (!twoLearners()) {
            learner.load(global);
            return;
        }
        learner.load(global.select(learner.adapter().tensors()::containsKey));
        tailLearner.load(global.select(tailLearner.adapter().tensors()::containsKey));
    }

    /**
     * The optimizer's moments, both learners' in one state. They step once per micro-batch each (the
     * tail on the server's output, the blocks on the cut gradient), so at a round's end their step
     * counts agree. On the tensor thread.
     */
    OptimizerState optimizerState() {
        OptimizerState front = learner.optimizer().state();
        if (!twoLearners()) {
            return front;
        }
        OptimizerState tail = tailLearner.optimizer().state();
        Map<String, HostTensor> m = new LinkedHashMap<>(front.firstMoments());
        m.putAll(tail.firstMoments());
        Map<String, HostTensor> v = new LinkedHashMap<>(front.secondMoments());
        v.putAll(tail.secondMoments());
        return new OptimizerState(front.step(), m, v);
    }

    /** Goes on with {@code state}'s moments; each learner's keys are its own, the others unused. On the tensor thread. */
    void restoreOptimizer(OptimizerState state) {
        learner.optimizer().restore(state.copy());
        if (twoLearners()) {
            tailLearner.optimizer().restore(state.copy());
        }
    }

    /**
     * Takes up a round's plan: SplitFrozen moves its cut (the cached activations belong to the old
     * one), and every mode takes the micro-batch size, the bits on the wire and the link rate.
     * {@code profile} is the device's on a fleet's time (null otherwise): its link then runs at the
     * planned rate.
     */
    void apply(DevicePlan next, FleetDevice profile, org.slf4j.Logger log) {
        if (next == null || next.equals(plan)) {
            return;
        }
        int k = plan.splitPoint();
        if (next.splitPoint() != k) {
            if (settings.mode() == io.splitfed.actors.job.TrainingMode.SPLITFROZEN) {
                devicePart = ModelSegment.devicePart(settings.model(), next.splitPoint());
                if (cache != null) {
                    cache.clear();
                }
                k = next.splitPoint();
            } else {
                log.warn("device {}: the plan moves its split point to {}, but only SplitFrozen devices move theirs; keeping {}",
                        settings.device(), next.splitPoint(), k);
            }
        }
        data.resize(next.microBatch());
        if (next.uplinkBits() != uplinkEncoding.bits()) {
            uplinkEncoding = TensorPayload.Encoding.forBits(next.uplinkBits());
        }
        if (profile != null) { // on a fleet's time: the planned rate at the profile's latency
            uplink = (next.uplinkMbps() > 0 ? profile.withUplink(next.uplinkMbps(), next.uplinkWatts()) : profile).link().uplinkShaper();
        } else if (settings.spec().links().enabled()) {
            double mbps = next.uplinkMbps() > 0 ? next.uplinkMbps() : settings.spec().links().uplinkMbps();
            uplink = new LinkShaper(mbps, settings.spec().links().latency());
        }
        plan = new DevicePlan(k, next.microBatch(), uplinkEncoding.bits(), next.uplinkMbps(), next.uplinkWatts());
    }

    int splitPoint() {
        return plan.splitPoint();
    }

    void resetRound(int newRound, int newSteps) {
        round = newRound;
        steps = newSteps;
        active = true;
        issued = 0;
        answered = 0;
        samples = 0;
        cachedMicroBatches = 0;
        computeSeconds = 0;
        flops = 0;
        bytesUp = 0;
        bytesDown = 0;
        resent = 0;
        localLosses = new ArrayList<>();
        timeline = new ArrayList<>();
    }

    int outstanding() {
        return pipeline.outstanding(computing);
    }
}
