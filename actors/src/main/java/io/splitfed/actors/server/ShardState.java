package io.splitfed.actors.server;

import io.splitfed.actors.link.LinkShaper;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.OptimizerState;
import io.splitfed.model.train.SegmentLearner;

import org.apache.pekko.actor.typed.ActorRef;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A shard's memory, kept outside its behaviour so that a restart by supervision resumes exactly:
 * adapters and optimizer moments, the last micro-batch trained per device (so a resent one is
 * answered, not trained again), the queue, and the round's figures. Touched only by the actor.
 */
public final class ShardState {

    static final int SHARED = -1;

    final ShardSettings settings;
    final Map<Integer, SegmentLearner> learners = new LinkedHashMap<>();
    final Map<Integer, TrainedSeqs> trained = new HashMap<>();

    /** What {@code device} has had trained here. */
    TrainedSeqs trained(int device) {
        return trained.computeIfAbsent(device, d -> new TrainedSeqs());
    }

    private Map<Integer, long[]> trainedArrays() {
        Map<Integer, long[]> out = new LinkedHashMap<>();
        trained.forEach((d, t) -> out.put(d, t.toArray()));
        return out;
    }
    final Map<Integer, Map<Long, TensorPayload>> recentGradients = new HashMap<>();
    final Map<Integer, LinkShaper> downlinks = new HashMap<>();
    final List<QueuedMicroBatch> queue = new ArrayList<>();
    final List<ServerShard.Forward> early = new ArrayList<>();
    /** The step running on the tensor thread, if any. */
    ServerShard.Step inProgress;
    int round = -1;
    boolean accepting;
    ServerShard.CloseRound pendingClose;
    /** The latest aggregate; replicas created later start from it. */
    LoraAdapter global;

    Map<Integer, Integer> trainedSamples = new LinkedHashMap<>();

    Map<Integer, Integer> replicaSamples = new LinkedHashMap<>();
    int duplicates;
    List<String> rejected = new ArrayList<>();
    List<StepLoss> losses = new ArrayList<>();
    List<TimelineEvent> timeline = new ArrayList<>();
    double trainSeconds;
    double flops;
    long bytesDown;
    long stepsTotal;

    /** In a cluster: where hand-off snapshots go, and come back from. */
    ActorRef<ShardStore.Command> store;
    boolean restored;
    /** This shard as the current round began: what it restarts from if its node is lost. */
    volatile CompletableFuture<ShardSnapshot> boundary;

    /** This shard as the current round began (null before the first round). */
    public ShardSnapshot boundary() {
        CompletableFuture<ShardSnapshot> b = boundary;
        return b == null ? null : b.join();
    }
    /** Micro-batches refused this round for what they held (not for arriving late), by device. */
    Map<Integer, Integer> strikes = new LinkedHashMap<>();
    boolean handingOff;
    /** A reset that waits for the step in progress to end. */
    ShardSnapshot resetTo;
    /**
     * Back from its round's start after its node died: closes of the round are dropped until the
     * coordinator, told by the store, says the round again (a close sent before the node died would
     * otherwise end the round before its devices have sent it again).
     */
    boolean awaitingRewind;

    public ShardState(ShardSettings settings) {
        this.settings = settings;
    }

    /** Saves hand-off snapshots to {@code store} and starts from the one it holds, if any. */
    public ShardState storedIn(ActorRef<ShardStore.Command> store) {
        this.store = store;
        return this;
    }

    /** Starts from a checkpoint's snapshot of this shard (taken between rounds). */
    public ShardState resumedFrom(ShardSnapshot s) {
        restore(s);
        restored = true;
        return this;
    }

    /**
     * This shard now. Its bookkeeping is copied at once; its adapters and optimizer moments belong
     * to the tensor thread and are copied there, after everything queued before, such as a
     * round's aggregate still being loaded into the replicas.
     */
    CompletableFuture<ShardSnapshot> snapshot() {
        Map<Integer, SegmentLearner> replicas = new LinkedHashMap<>(learners);
        int r = round;
        boolean open = accepting;
        LoraAdapter g = global;
        Map<Integer, long[]> seqs = trainedArrays();
        Map<Integer, Integer> samples = new LinkedHashMap<>(trainedSamples);
        Map<Integer, Integer> replicaRows = new LinkedHashMap<>(replicaSamples);
        int dups = duplicates;
        List<String> refused = new ArrayList<>(rejected);
        List<StepLoss> stepLosses = new ArrayList<>(losses);
        List<TimelineEvent> events = new ArrayList<>(timeline);
        double seconds = trainSeconds;
        double f = flops;
        long down = bytesDown;
        long steps = stepsTotal;
        var close = pendingClose;
        List<ServerShard.Forward> queued = queue.stream().map(q -> q.forward).toList();
        List<boolean[]> rows = queue.stream().map(QueuedMicroBatch::trainedRows).toList();
        List<ServerShard.Forward> waiting = new ArrayList<>(early);
        return TensorExecutor.shared().submit(() -> {
            Map<Integer, LoraAdapter> adapters = new LinkedHashMap<>();
            Map<Integer, OptimizerState> optimizers = new LinkedHashMap<>();
            replicas.forEach((k, l) -> {
                adapters.put(k, l.adapter().copy());
                optimizers.put(k, l.optimizer().state().copy());
            });
            return new ShardSnapshot(settings.shard(), r, open, adapters, optimizers, g, seqs, samples, replicaRows, dups, refused, stepLosses, events,
                    seconds, f, down, steps, close, queued, rows, waiting);
        });
    }

    void restore(ShardSnapshot s) {
        round = s.round();
        accepting = s.accepting();
        global = s.global();
        s.adapters().forEach((k, a) -> {
            SegmentLearner learner = learnerFor(k == SHARED ? 0 : k);
            OptimizerState o = s.optimizers().get(k);
            TensorExecutor.shared().execute(() -> {
                learner.load(a);
                learner.optimizer().restore(o);
            });
        });
        s.trainedSeqs().forEach((d, a) -> trained.put(d, TrainedSeqs.fromArray(a)));
        trainedSamples = new LinkedHashMap<>(s.trainedSamples());
        replicaSamples = new LinkedHashMap<>(s.replicaSamples());
        duplicates = s.duplicates();
        rejected = new ArrayList<>(s.rejected());
        losses = new ArrayList<>(s.losses());
        timeline = new ArrayList<>(s.timeline());
        trainSeconds = s.trainSeconds();
        flops = s.flops();
        bytesDown = s.bytesDown();
        stepsTotal = s.stepsTotal();
        pendingClose = s.pendingClose();
        for (int i = 0; i < s.queued().size(); i++) {
            QueuedMicroBatch q = new QueuedMicroBatch(s.queued().get(i), arrivals++);
            q.markTrained(s.trainedRows().get(i));
            queue.add(q);
        }
        early.addAll(s.early());
    }

    /** The learner that trains {@code device}'s micro-batches: its own replica, or the shared one. */
    SegmentLearner learnerFor(int device) {
        int key = settings.perDeviceReplicas() ? device : SHARED;
        return learners.computeIfAbsent(key, k -> SegmentLearner.create(
                ModelSegment.serverPart(settings.model(), settings.spec().federation().minSplitPoint(), settings.head()),
                (global != null ? global : settings.initialAdapter()).copy(),
                new AdamW(settings.spec().training().optimizer(), settings.schedule()),
                settings.spec().training().backward(),
                settings.spec().seed() * 7919 + settings.shard() * 131L + k));
    }

    /** Back to {@code s}, dropping everything queued, trained or answered since; no step may be in progress. */
    void resetTo(ShardSnapshot s) {
        queue.clear();
        early.clear();
        trained.clear();
        recentGradients.clear();
        pendingClose = null;
        boundary = null;
        restore(s);
    }

    void resetRound(int newRound) {
        round = newRound;
        strikes = new LinkedHashMap<>();
        trainedSamples = new LinkedHashMap<>();
        replicaSamples = new LinkedHashMap<>();
        duplicates = 0;
        rejected = new ArrayList<>();
        losses = new ArrayList<>();
        timeline = new ArrayList<>();
        trainSeconds = 0;
        flops = 0;
        bytesDown = 0;
    }

    /**
     * The queued micro-batch with rows left of the device furthest behind in its round (ties by
     * arrival), or null. Serving the laggard first keeps every device's progress in step: devices
     * with smaller shards would otherwise finish early and leave the end of each round to the
     * others, which under label skew means training on one label for a while.
     */
    QueuedMicroBatch laggard() {
        QueuedMicroBatch best = null;
        for (QueuedMicroBatch q : queue) {
            if (q.remaining() > 0 && (best == null || progress(q) < progress(best))) {
                best = q;
            }
        }
        return best;
    }

    /** Queued micro-batches with rows left, cut at {@code splitPoint}. */
    List<QueuedMicroBatch> pool(int splitPoint) {
        List<QueuedMicroBatch> out = new ArrayList<>();
        for (QueuedMicroBatch q : queue) {
            if (q.remaining() > 0 && q.forward.splitPoint() == splitPoint) {
                out.add(q);
            }
        }
        return out;
    }

    long arrivals;
    private double progress(QueuedMicroBatch q) {
        return progressAfter(q, 0);
    }

    /** The share of its round {@code q}'s device would have done with {@code extraRows} more rows trained. */
    double progressAfter(QueuedMicroBatch q, int extraRows) {
        double planned = (double) Math.max(1, q.forward.roundSteps()) * settings.spec().training().microBatch();
        return (trainedSamples.getOrDefault(q.forward.device(), 0) + extraRows) / planned;
    }

    QueuedMicroBatch find(int device, long seq) {
        for (QueuedMicroBatch q : queue) {
            if (q.forward.device() == device && q.forward.seq() == seq) {
                return q;
            }
        }
        return null;
    }

    LinkShaper downlink(int device) {
        JobLinks l = JobLinks.of(settings.spec());
        return downlinks.computeIfAbsent(device, d -> l.enabled() ? new LinkShaper(l.downMbps(), l.latency()) : null);
    }

    /** Link settings, pulled out of the spec once. */
    record JobLinks(boolean enabled, double downMbps, java.time.Duration latency) {
        static JobLinks of(io.splitfed.actors.job.JobSpec spec) {
            return new JobLinks(spec.links().enabled(), spec.links().downlinkMbps(), spec.links().latency());
        }
    }
}
