package io.splitfed.runtime.bench;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.device.DeviceData;
import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.nn.SplitPoint;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.SegmentLearner;

import com.typesafe.config.Config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Does pipelining pay? SplitFrozen with 4 devices on SST-2: samples/s with a window of
 * micro-batches in flight against stop-and-wait on shaped edge links; the actor runtime, training
 * whole micro-batches, against a bare single-thread loop over the same model, data and
 * micro-batches with no links at all; what mixing rows of several devices into each step costs
 * (the rows of one step are padded to its longest, and rows of several devices match less
 * well in length than a micro-batch the device batched by length); and SplitFrozen's server step
 * against the step centralized LoRA runs over the same blocks.
 */
public final class PipelineSuite implements BenchSuite {

    static final int DEVICES = 4;
    static final double UPLINK_MBPS = 5;
    static final double DOWNLINK_MBPS = 20;
    static final String LATENCY = "100ms";
    /** The default server.mix-devices. */
    static final int MIXED = 8;

    @Override
    public String name() {
        return "pipeline";
    }

    @Override
    public String description() {
        return "SplitFrozen, 4 devices: window 4 vs stop-and-wait on " + UPLINK_MBPS + "/" + DOWNLINK_MBPS + " Mbit/s, " + LATENCY
                + " links; actor runtime vs bare loop";
    }

    @Override
    public List<Comparison> run(boolean quick) throws Exception {
        int samples = quick ? 1200 : 4000;
        double windowed = samplesPerSecond(samples, 4, true, MIXED);
        double stopAndWait = samplesPerSecond(samples, 1, true, MIXED);
        Run whole = run(samples, 4, false, 1);
        Run mixed = run(samples, 4, false, MIXED);
        double bare = bareLoop(samples);
        List<Comparison> out = new ArrayList<>();
        String links = "edge links";
        out.add(new Comparison(name(), "window 4, " + links, windowed, "samples/s", "window 1 (stop-and-wait), " + links, stopAndWait, "samples/s", true));
        out.add(new Comparison(name(), "actor runtime, window 4, no link delay, whole micro-batches (mix-devices 1)", whole.samplesPerSecond(), "samples/s",
                "bare single-thread loop (whole micro-batches)", bare, "samples/s", true));
        out.add(new Comparison(name(), "the same, each step mixing rows of the devices' micro-batches (mix-devices " + MIXED + ", the default)",
                mixed.samplesPerSecond(), "samples/s", "whole micro-batches (mix-devices 1)", whole.samplesPerSecond(), "samples/s", true));
        // why: a step pads its rows to its longest, and rows of several devices match less well in length
        out.add(new Comparison(name(), "server GFLOP per sample, padding included, mixed steps", mixed.serverGflopPerSample(), "GFLOP",
                "whole micro-batches", whole.serverGflopPerSample(), "GFLOP", false));
        double[] step = serverStep(quick ? 40 : 120);
        out.add(new Comparison(name(), "SplitFrozen server step (no cut gradient: one fused pass)", step[0], "ms",
                "the same blocks' step as centralized LoRA runs it (input gradient for the blocks below)", step[1], "ms", false));
        return out;
    }

    private static Config config(int samples, int window, boolean links, int mixDevices) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("server.mix-devices", mixDevices);
        o.put("mode", "splitfrozen");
        o.put("federation.devices", DEVICES);
        o.put("federation.rounds", 1);
        o.put("federation.epochs", 1);
        o.put("data.train-limit", samples);
        o.put("data.eval-limit", 64);
        o.put("pipeline.window", window);
        o.put("pipeline.activation-cache", false);
        o.put("links.enabled", links);
        o.put("links.uplink-mbps", UPLINK_MBPS);
        o.put("links.downlink-mbps", DOWNLINK_MBPS);
        o.put("links.latency", LATENCY);
        return JobConfig.load(JobConfig.jobSettings(o));
    }

    /** A runtime run: samples/s, and the server's GFLOP per trained sample (padded positions included). */
    private record Run(double samplesPerSecond, double serverGflopPerSample) {}

    /** Training throughput from the round's start to its last answered micro-batch (evaluation excluded). */
    private static double samplesPerSecond(int samples, int window, boolean links, int mixDevices) throws Exception {
        return run(samples, window, links, mixDevices).samplesPerSecond();
    }

    private static Run run(int samples, int window, boolean links, int mixDevices) throws Exception {
        Config config = config(samples, window, links, mixDevices);
        PreparedJob job = JobPreparation.prepare(JobSpec.fromConfig(config));
        AtomicLong start = new AtomicLong();
        AtomicLong last = new AtomicLong();
        AtomicLong trained = new AtomicLong();
        JobResult result;
        try {
            result = TrainingJob.run(job, config, e -> {
                if (e instanceof JobEvent.RoundStarted) {
                    start.set(System.nanoTime());
                } else if (e instanceof JobEvent.Progress p) {
                    last.set(System.nanoTime());
                    trained.set(p.samples());
                }
            }).result().get(30, TimeUnit.MINUTES);
        } finally {
            TensorExecutor.shared().run(job.model()::close);
        }
        double flops = result.shardReports().stream().mapToDouble(ShardRoundReport::flops).sum();
        long serverSamples = result.shardReports().stream().flatMap(r -> r.trainedSamples().values().stream()).mapToLong(Integer::longValue).sum();
        return new Run(trained.get() / ((last.get() - start.get()) / 1e9), flops / 1e9 / serverSamples);
    }

    /** The same micro-batches, device after device in turn, through frozen forward and a server step: no actors. */
    private static double bareLoop(int samples) {
        Config config = config(samples, 1, false, 1);
        PreparedJob job = JobPreparation.prepare(JobSpec.fromConfig(config));
        JobSpec spec = job.spec();
        int k = spec.federation().splitPoint(0);
        List<DeviceData> data = job.deviceData();
        int[] steps = new int[DEVICES];
        int total = 0;
        for (int d = 0; d < DEVICES; d++) {
            steps[d] = job.stepsPerRound(d);
            total += steps[d];
        }
        int totalSteps = total;
        try {
            return TensorExecutor.shared().call(() -> {
                ModelSegment device = ModelSegment.devicePart(job.model(), k);
                SegmentLearner server = serverLearner(job, k, spec.training().backward(), totalSteps);
                long t0 = System.nanoTime();
                long n = 0;
                int[] done = new int[DEVICES];
                for (int s = 0; s < totalSteps; s++) {
                    int d = s % DEVICES;
                    while (done[d] >= steps[d]) {
                        d = (d + 1) % DEVICES;
                    }
                    done[d]++;
                    TokenBatch b = job.batcher().apply(data.get(d).next());
                    TensorPayload acts = SegmentLearner.frozenForward(device, b, TensorPayload.Encoding.F32);
                    server.trainStep(b.withoutTokens(), acts, null, null);
                    n += b.batch();
                }
                return n / ((System.nanoTime() - t0) / 1e9);
            });
        } finally {
            TensorExecutor.shared().run(job.model()::close);
        }
    }

    /**
     * Milliseconds per server step over the same micro-batches and blocks: SplitFrozen's (nobody
     * needs the cut gradient, so one fused pass computes the LoRA gradients only) against the step
     * centralized LoRA runs over those blocks (its backward goes on into the blocks below, so it
     * also computes the input gradient). Interleaved, after a warm-up, on the tensor thread.
     */
    private static double[] serverStep(int steps) {
        Config config = config(DEVICES * 64, 1, false, 1);
        PreparedJob job = JobPreparation.prepare(JobSpec.fromConfig(config));
        JobSpec spec = job.spec();
        int k = spec.federation().splitPoint(0);
        try {
            return TensorExecutor.shared().call(() -> {
                ModelSegment device = ModelSegment.devicePart(job.model(), k);
                SegmentLearner frozen = serverLearner(job, k, spec.training().backward(), steps);
                SegmentLearner central = serverLearner(job, k, SegmentLearner.Backward.FUSED, steps);
                List<TokenBatch> batches = new ArrayList<>();
                List<TensorPayload> acts = new ArrayList<>();
                DeviceData data = job.deviceData().get(0);
                for (int i = 0; i < 8; i++) {
                    TokenBatch b = job.batcher().apply(data.next());
                    batches.add(b.withoutTokens());
                    acts.add(SegmentLearner.frozenForward(device, b, TensorPayload.Encoding.F32));
                }
                java.util.function.Consumer<TensorPayload> discard = g -> { };
                long frozenNanos = 0;
                long centralNanos = 0;
                for (int s = -4; s < steps; s++) {
                    int i = Math.floorMod(s, batches.size());
                    long t0 = System.nanoTime();
                    frozen.trainStep(batches.get(i), acts.get(i), null, null);
                    long t1 = System.nanoTime();
                    central.trainStep(batches.get(i), acts.get(i), discard, TensorPayload.Encoding.F32);
                    long t2 = System.nanoTime();
                    if (s >= 0) {
                        frozenNanos += t1 - t0;
                        centralNanos += t2 - t1;
                    }
                }
                return new double[] {frozenNanos / 1e6 / steps, centralNanos / 1e6 / steps};
            });
        } finally {
            TensorExecutor.shared().run(job.model()::close);
        }
    }

    /** The server blocks past split point {@code k} with their initial adapter, as a worker starts them (tensor thread only). */
    private static SegmentLearner serverLearner(PreparedJob job, int k, SegmentLearner.Backward backward, int steps) {
        JobSpec spec = job.spec();
        return SegmentLearner.create(ModelSegment.serverPart(job.model(), k, job.head()), new SplitPoint(k).serverSide(job.wholeAdapter()).copy(),
                new AdamW(spec.training().optimizer(), JobPlan.schedule(spec, steps)), backward, 0);
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
