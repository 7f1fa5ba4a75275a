package io.splitfed.actors.server;

import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.fleet.LinkProfile;
import io.splitfed.actors.link.LinkShaper;
import io.splitfed.actors.metrics.SeenGradient;
import io.splitfed.actors.metrics.ShardRoundReport;
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
    final Map<Integer, LinkShaper> downlinks = new java.util.concurrent.ConcurrentHashMap<>();
    /** The fleet whose links the devices' downlinks are, on a fleet's time; else null. */
    private volatile Fleet fleet;
    /** What goes down the devices' links leaves through them; set by the worker's first behaviour. */
    io.splitfed.actors.link.Links links;
    /** The micro-batches waiting for a step, and those held for the next round, with their rules. */
    final ShardQueue queue;
    /** The step running on the tensor thread, if any (in the U-shape, also while it waits for the device's gradient). */
    ServerShard.Step inProgress;
    /** The U-shape: the step whose server forward is done, waiting for its device's gradient at the output; else null. */
    ShardStep.Middle awaiting;
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
    /** The U-shape's returned gradients this round, when recorded for audits. */
    List<SeenGradient> seenGradients = new ArrayList<>();
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
        this.queue = new ShardQueue(new ShardQueue.Rules(settings.spec().robustness().asynchronous(), settings.sendsCutGradients() || settings.uShape() != null,
                settings.spec().server().mixDevices(), settings.spec().training().microBatch(), settings.model().config().hiddenSize()));
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
        List<ServerShard.Forward> queued = queue.forwards();
        List<boolean[]> rows = queue.trainedRows();
        List<ServerShard.Forward> waiting = queue.held();
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
        queue.restore(s.queued(), s.trainedRows(), s.early());
    }

    /** The learner that trains {@code device}'s micro-batches: its own replica, or the shared one. */
    SegmentLearner learnerFor(int device) {
        int key = settings.perDeviceReplicas() ? device : SHARED;
        return learners.computeIfAbsent(key, k -> SegmentLearner.create(
                settings.uShape() != null ? settings.uShape().middlePart(settings.model())
                        : ModelSegment.serverPart(settings.model(), settings.spec().federation().minSplitPoint(), settings.head()),
                (global != null ? global : settings.initialAdapter()).copy(),
                new AdamW(settings.spec().training().optimizer(), settings.schedule()),
                settings.spec().training().backward(),
                settings.spec().seed() * 7919 + settings.shard() * 131L + k));
    }

    /** Back to {@code s}, dropping everything queued, trained or answered since; no step may be in progress. */
    void resetTo(ShardSnapshot s) {
        queue.clear();
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
        seenGradients = new ArrayList<>();
        trainSeconds = 0;
        flops = 0;
        bytesDown = 0;
    }

    /**
     * Books a step that ended: its time, loss and timeline, the rows it trained, and each
     * micro-batch it finished, which leaves the queue as trained here. Returns those, in the step's
     * order: each is answered now (SplitFrozen's credit; SFL's cut gradient went as the step ran).
     */
    List<ServerShard.Forward> stepTrained(ServerShard.Step step, float loss, double seconds, double stepFlops, long now) {
        trainSeconds += seconds;
        flops += stepFlops;
        stepsTotal++;
        ServerShard.Forward first = step.first().forward;
        String where = "shard-" + settings.shard();
        if (!Float.isNaN(loss)) { // the U-shape's loss is the device's
            losses.add(new StepLoss(first.round(), first.device(), first.seq(), loss, now));
        }
        timeline.add(new TimelineEvent(first.device(), first.round(), first.seq(), TimelineEvent.Stage.STEP, now, where, (long) (seconds * 1e6)));
        List<ServerShard.Forward> done = new ArrayList<>();
        step.taken().forEach((q, n) -> {
            ServerShard.Forward f = q.forward;
            trainedSamples.merge(f.device(), n, Integer::sum);
            replicaSamples.merge(settings.perDeviceReplicas() ? f.device() : SHARED, n, Integer::sum);
            if (q.trained(n)) {
                queue.remove(q);
                trained(f.device()).add(f.seq());
                timeline.add(new TimelineEvent(f.device(), f.round(), f.seq(), TimelineEvent.Stage.TRAINED, now, where, (long) (seconds * 1e6)));
                done.add(f);
            }
        });
        return done;
    }

    /** Keeps the cut gradient of {@code f} (the device's last two windows' worth), to answer a resend without a second step. */
    void keepGradient(ServerShard.Forward f, TensorPayload gradient, long bytes) {
        bytesDown += bytes;
        Map<Long, TensorPayload> recent = recentGradients.computeIfAbsent(f.device(), d -> new LinkedHashMap<>());
        recent.put(f.seq(), gradient);
        int keep = settings.spec().pipeline().window() * 2;
        while (recent.size() > keep) {
            recent.remove(recent.keySet().iterator().next());
        }
    }

    /** The round's report, with a copy of each replica and the samples it trained, as the shard on {@code node} closes it. */
    ServerShard.Closed closed(String node) {
        Map<Integer, LoraAdapter> replicas = new LinkedHashMap<>();
        Map<Integer, Double> weights = new HashMap<>();
        learners.forEach((key, learner) -> {
            replicas.put(key, learner.adapter().copy());
            weights.put(key, (double) replicaSamples.getOrDefault(key, 0));
        });
        ShardRoundReport report = new ShardRoundReport(settings.shard(), round, trainedSamples, duplicates, rejected, losses, trainSeconds, flops,
                bytesDown, timeline, new LinkedHashMap<>(strikes), node, List.copyOf(seenGradients));
        return new ServerShard.Closed(report, replicas, weights);
    }

    /** The share of its round {@code q}'s device would have done with {@code extraRows} more rows trained. */
    double progressAfter(QueuedMicroBatch q, int extraRows) {
        double planned = (double) Math.max(1, q.forward.roundSteps()) * settings.spec().training().microBatch();
        return (trainedSamples.getOrDefault(q.forward.device(), 0) + extraRows) / planned;
    }

    /** On a fleet's time, the devices' downlinks are the fleet's. */
    void fleetDownlinks(Fleet f) {
        this.fleet = f;
    }

    /** {@code device}'s simulated downlink; null without simulated links. Any thread (the links send from the tensor thread's hand-off). */
    LinkShaper downlink(int device) {
        Fleet f = fleet;
        if (f != null) {
            LinkProfile link = f.device(device).link();
            return link.downlinkMbps() <= 0 ? null : downlinks.computeIfAbsent(device, d -> link.downlinkShaper());
        }
        var l = settings.spec().links();
        return l.enabled() ? downlinks.computeIfAbsent(device, d -> new LinkShaper(l.downlinkMbps(), l.latency())) : null;
    }
}
