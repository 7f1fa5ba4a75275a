package io.splitfed.actors.job;

import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.coordinator.CoordinatorSettings;
import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.device.DeviceSettings;
import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.plan.AllocationPlanner;
import io.splitfed.actors.plan.RoundPlanner;
import io.splitfed.actors.device.DeviceState;
import io.splitfed.actors.server.ShardSettings;
import io.splitfed.actors.server.ShardState;
import io.splitfed.model.head.ClassificationHead;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.SplitPoint;
import io.splitfed.model.nn.UShapedSplit;
import io.splitfed.model.train.Evaluation;
import io.splitfed.model.train.LrSchedule;

import org.apache.pekko.actor.typed.ActorRef;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a prepared job maps onto actors: the initial adapters of each side, each device's steps per
 * round, which shard serves which device, and the settings of every device and shard. One JVM or
 * a cluster, every node derives the same plan from the same job, so all agree without talking.
 */
public final class JobPlan {

    private final PreparedJob job;
    private final LoraAdapter deviceInit;
    private final LoraAdapter serverInit;
    private final Map<Integer, Integer> steps = new LinkedHashMap<>();
    private final Map<Integer, Integer> shardOf = new LinkedHashMap<>();

    public JobPlan(PreparedJob job) {
        this.job = job;
        JobSpec spec = job.spec();
        LoraAdapter device = null;
        LoraAdapter server = null;
        switch (spec.mode()) {
            case SPLITFROZEN -> {
                if (spec.uShape().enabled()) { // the device trains its tail and head, the server the middle
                    UShapedSplit u = uShapedSplit(job);
                    device = u.tail(job.wholeAdapter());
                    server = u.middle(job.wholeAdapter());
                } else {
                    server = new SplitPoint(spec.federation().minSplitPoint()).serverSide(job.wholeAdapter());
                }
            }
            case SFL -> {
                SplitPoint k = new SplitPoint(spec.federation().splitPoint(0));
                device = k.deviceSide(job.wholeAdapter());
                server = k.serverSide(job.wholeAdapter());
                if (spec.uShape().enabled()) { // the device trains its blocks, its tail and head; the server the middle
                    UShapedSplit u = uShapedSplit(job);
                    device = LoraAdapter.union(device, u.tail(job.wholeAdapter()));
                    server = u.middle(job.wholeAdapter());
                }
            }
            case FEDLORA, CENTRALIZED -> device = job.wholeAdapter();
        }
        this.deviceInit = device;
        this.serverInit = server;
        for (int d = 0; d < job.devices(); d++) {
            steps.put(d, job.stepsPerRound(d));
            if (spec.mode().isSplit()) {
                shardOf.put(d, d % spec.server().shards());
            }
        }
    }

    /** The U-shaped split of {@code job} (its {@code privacy.u-shape} must be enabled). */
    public static UShapedSplit uShapedSplit(PreparedJob job) {
        return UShapedSplit.of(job.model(), job.spec().federation().minSplitPoint(), job.spec().uShape().tailBlocks());
    }

    public PreparedJob job() {
        return job;
    }

    /**
     * What the coordinator runs with: this plan's spec, shard map, steps, initial adapters, evaluator
     * and layers, with the actors and the checkpoint it works with. The one place it is built.
     */
    public CoordinatorSettings coordinatorSettings(Map<Integer, ActorRef<DeviceActor.Command>> devices, List<ActorRef<ServerShard.Command>> shards,
            ActorRef<Aggregator.Command> aggregator, ActorRef<JobEvent> listener, ActorRef<JobResult> replyTo, RoundPlanner planner,
            JobCheckpoint resume) {
        return new CoordinatorSettings(spec(), devices, shards, shardOf(), aggregator, stepsPerRound(), initialDeviceAdapter(), initialServerAdapter(),
                evaluator(), listener, replyTo, layers(), planner, resume);
    }

    public JobSpec spec() {
        return job.spec();
    }

    /** Server shards the job runs: none outside the split modes. */
    public int shards() {
        return spec().mode().isSplit() ? spec().server().shards() : 0;
    }

    public Map<Integer, Integer> shardOf() {
        return shardOf;
    }

    public Map<Integer, Integer> stepsPerRound() {
        return steps;
    }

    /** A fresh state for shard {@code s}: its adapters from the initial server adapter. */
    public ShardState shardState(int s) {
        JobSpec spec = spec();
        int rounds = spec.federation().rounds();
        boolean perDevice = spec.mode() == TrainingMode.SFL && spec.server().perDeviceReplicas();
        long serverSteps = perDevice
                ? steps.values().stream().mapToLong(Integer::longValue).max().orElse(1) * rounds
                : steps.values().stream().mapToLong(Integer::longValue).sum() * rounds / spec.server().shards();
        return new ShardState(new ShardSettings(s, spec, job.model(), job.head(), serverInit,
                spec.mode() == TrainingMode.SFL, perDevice, schedule(spec, serverSteps), spec.uShape().enabled() ? uShapedSplit(job) : null));
    }

    /** A fresh state for device {@code d}, holding its data shard. */
    public DeviceState deviceState(int d) {
        JobSpec spec = spec();
        int k = spec.mode().isSplit() ? spec.federation().splitPoint(d) : job.model().numLayers();
        DeviceSettings ds = new DeviceSettings(d, spec, job.model(), job.head(), k, deviceInit,
                schedule(spec, (long) steps.get(d) * spec.federation().rounds()), job.batcher(), spec.uShape().enabled() ? uShapedSplit(job) : null);
        return new DeviceState(ds, job.deviceData().get(d));
    }

    /**
     * The job's round planner: null (the job's settings each round) for {@code static}, otherwise
     * the optimiser with this job's model, head and samples per round. {@code inOneJvm}: devices
     * and server share this JVM's tensor thread, which the prediction accounts for. On {@code fleet}'s
     * emulated time (null: the host's), the planner sees the fleet's speeds and links.
     */
    public RoundPlanner planner(boolean inOneJvm, Fleet fleet) {
        JobSpec spec = spec();
        if (spec.planning().policy().equals("static")) {
            return null;
        }
        int labels = job.head() instanceof ClassificationHead c ? c.numLabels() : job.model().config().vocabSize();
        Map<Integer, Integer> samples = new LinkedHashMap<>();
        steps.forEach((d, n) -> samples.put(d, n * spec.training().microBatch()));
        return new AllocationPlanner(spec, job.model().config(), labels, samples, inOneJvm, fleet);
    }

    public int layers() {
        return job.model().numLayers();
    }

    public LoraAdapter initialDeviceAdapter() {
        return deviceInit;
    }

    public LoraAdapter initialServerAdapter() {
        return serverInit;
    }

    /** Scores global adapters on the job's held-out batches; tensor thread. */
    public CoordinatorSettings.Evaluator evaluator() {
        return (dev, srv) -> Evaluation.run(job.model(), job.head(),
                dev == null ? srv : srv == null ? dev : LoraAdapter.union(dev, srv), job.evalBatches());
    }

    /** The schedule of an optimizer that takes {@code totalSteps} steps over the job. */
    public static LrSchedule schedule(JobSpec spec, long totalSteps) {
        var t = spec.training();
        long warmup = (long) Math.ceil(t.warmupFraction() * totalSteps);
        return new LrSchedule(t.schedule(), t.learningRate(), warmup, totalSteps, 0.0);
    }
}
