package io.splitfed.runtime.metrics;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.metrics.RoundSummary;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A running job's figures as Prometheus metrics, fed by the coordinator's {@link JobEvent}s:
 * rounds, samples and samples/s, loss, per-device progress, lag, bytes and micro-batches in
 * flight, and the server shards' queue depths. Serve {@link #registry()} with
 * {@link MetricsEndpoint}. Events come from one thread (the job's listener); scrapes from others.
 */
public final class LiveMetrics implements Consumer<JobEvent> {

    /** samples/s is measured over this window, at scrape time, so a stalled job reads 0. */
    static final long RATE_WINDOW_NANOS = 10_000_000_000L;

    private final PrometheusRegistry registry = new PrometheusRegistry();

    private final Gauge round = gauge("splitfed_round", "The round running now (1-based); the last round once the job ended");
    private final Gauge roundsPlanned = gauge("splitfed_rounds_planned", "Rounds the job runs");
    private final Counter roundsCompleted = counter("splitfed_rounds_completed", "Rounds closed");
    private final Counter samples = counter("splitfed_samples_trained", "Samples whose micro-batch was answered");
    private final Counter microBatches = counter("splitfed_microbatches_answered", "Micro-batches answered");
    private final Gauge trainLoss = gauge("splitfed_train_loss", "Training loss of the latest step seen (shard or device-local)");
    private final Gauge roundTrainLoss = gauge("splitfed_round_train_loss", "Mean training loss of the last closed round");
    private final Gauge evalLoss = gauge("splitfed_eval_loss", "Evaluation loss after the last closed round");
    private final Gauge evalAccuracy = gauge("splitfed_eval_accuracy", "Evaluation accuracy after the last closed round (NaN for language modelling)");
    private final Gauge roundProgress = gauge("splitfed_round_progress_ratio", "Share of the round's micro-batches answered");
    private final Counter bytes = Counter.builder().name("splitfed_bytes").help("Bytes of micro-batch traffic between devices and server: activations up, credits and cut gradients down")
            .labelNames("direction").register(registry);
    private final Counter deviceBytes = Counter.builder().name("splitfed_device_bytes").help("Micro-batch bytes a device sent (up) and received (down)")
            .labelNames("device", "direction").register(registry);
    private final Gauge deviceProgress = labelled("splitfed_device_progress_ratio", "Share of its round's micro-batches a device has had answered", "device");
    private final Gauge deviceLag = labelled("splitfed_device_lag_microbatches",
            "Micro-batches a device is behind the round's fastest device, at that device's pace", "device");
    private final Gauge deviceInFlight = labelled("splitfed_device_inflight_microbatches", "Micro-batches a device has sent and not had answered", "device");
    private final Gauge shardQueue = labelled("splitfed_shard_queue_depth", "Micro-batches queued at a server shard, waiting to train", "shard");
    private final Counter shardSteps = Counter.builder().name("splitfed_shard_steps").help("Training steps a server shard ran").labelNames("shard").register(registry);
    private final Gauge devicesIn = labelled("splitfed_devices", "Devices of the last closed round by state", "state");
    private final Gauge finished = gauge("splitfed_job_finished", "1 once the job ended (2 if it failed)");
    private final Gauge elapsed = labelled("splitfed_elapsed_seconds",
            "Seconds from the first round's start to the last closed round's end: clock=job on the job's own clock (a fleet's emulated time, "
                    + "under --fleet), clock=wall on the host's", "clock");
    private long firstStartNanos = -1;
    private double jobClockSeconds;

    /** Per device in the running round: steps, answered, bytes reported so far, last answer time, micro-batches in flight. */
    private final Map<Integer, long[]> roundDevices = new HashMap<>();
    /** Per shard, its last report: queued and steps (a restarted shard counts from 0 again). */
    private final Map<Integer, long[]> shards = new TreeMap<>();
    /** For the live page: per device, bytes up and down in the whole job; every closed round. */
    private final Map<Integer, long[]> deviceTotals = new TreeMap<>();
    private final List<RoundSummary> closedRounds = new ArrayList<>();
    private long version;
    private String state = "waiting";
    private final ArrayDeque<long[]> sampleTimes = new ArrayDeque<>();
    private long samplesSoFar;
    private int currentRound = -1;

    public LiveMetrics() {
        GaugeWithCallback.builder().name("splitfed_samples_per_second").help("Samples trained per second over the last 10 s")
                .callback(cb -> cb.call(samplesPerSecond(System.nanoTime()))).register(registry);
        GaugeWithCallback.builder().name("splitfed_device_seconds_since_answer")
                .help("Seconds since a device's last answered micro-batch, while its round runs (0 once it is done)").labelNames("device")
                .callback(cb -> sinceAnswer(System.nanoTime()).forEach((d, v) -> cb.call(v, id(d)))).register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    @Override
    public synchronized void accept(JobEvent e) {
        long now = System.nanoTime();
        // the shards report every second; a report that changes nothing leaves the live view's version alone
        if (!(e instanceof JobEvent.ShardLoad l) || !Arrays.equals(shards.get(l.shard()), new long[] {l.queued(), l.steps()})) {
            version++;
        }
        if (e instanceof JobEvent.RoundStarted s) {
            started(s, now);
        } else if (e instanceof JobEvent.Progress p) {
            progress(p, now);
        } else if (e instanceof JobEvent.ShardLoad l) {
            shardQueue.labelValues(id(l.shard())).set(l.queued());
            long[] seen = shards.get(l.shard());
            long before = seen == null ? 0 : seen[1];
            if (l.steps() > before) {
                shardSteps.labelValues(id(l.shard())).inc(l.steps() - before);
            }
            shards.put(l.shard(), new long[] {l.queued(), l.steps()});
            if (!Float.isNaN(l.loss())) {
                trainLoss.set(l.loss());
            }
        } else if (e instanceof JobEvent.RoundClosed c) {
            closed(c.summary());
            jobClockSeconds += c.summary().seconds();
            elapsed.labelValues("job").set(jobClockSeconds);
            elapsed.labelValues("wall").set(firstStartNanos < 0 ? 0 : (now - firstStartNanos) / 1e9);
        } else if (e instanceof JobEvent.Finished) {
            finished.set(1);
            state = "finished";
            roundDevices.clear();
        } else if (e instanceof JobEvent.Failed) {
            finished.set(2);
            state = "failed";
            roundDevices.clear();
        }
    }

    private void started(JobEvent.RoundStarted s, long now) {
        if (firstStartNanos < 0) {
            firstStartNanos = now;
        }
        currentRound = s.round();
        state = "running";
        samplesSoFar = 0; // the events count the round's samples
        round.set(s.round() + 1);
        roundsPlanned.set(s.rounds());
        roundProgress.set(0);
        roundDevices.clear();
        deviceProgress.clear();
        deviceLag.clear();
        deviceInFlight.clear();
        for (int d : s.sampled()) {
            roundDevices.put(d, new long[] {0, 0, 0, 0, now, 0});
            deviceProgress.labelValues(id(d)).set(0);
            deviceLag.labelValues(id(d)).set(0);
            deviceInFlight.labelValues(id(d)).set(0);
        }
    }

    private void progress(JobEvent.Progress p, long now) {
        if (p.round() != currentRound) {
            return;
        }
        long[] d = roundDevices.computeIfAbsent(p.device(), k -> new long[] {0, 0, 0, 0, now, 0});
        long newSamples = Math.max(0, p.samples() - samplesSoFar);
        long newMicroBatches = Math.max(0, p.deviceAnswered() - d[1]);
        samplesSoFar = p.samples();
        samples.inc(newSamples);
        microBatches.inc(newMicroBatches);
        sampleTimes.addLast(new long[] {now, newSamples});
        trimRate(now);
        long up = Math.max(0, p.bytesUp() - d[2]);
        long down = Math.max(0, p.bytesDown() - d[3]);
        bytes.labelValues("up").inc(up);
        bytes.labelValues("down").inc(down);
        deviceBytes.labelValues(id(p.device()), "up").inc(up);
        deviceBytes.labelValues(id(p.device()), "down").inc(down);
        long[] total = deviceTotals.computeIfAbsent(p.device(), k -> new long[2]);
        total[0] += up;
        total[1] += down;
        d[0] = p.deviceSteps();
        d[1] = p.deviceAnswered();
        d[2] = p.bytesUp();
        d[3] = p.bytesDown();
        d[4] = now;
        d[5] = p.inFlight();
        deviceInFlight.labelValues(id(p.device())).set(p.inFlight());
        roundProgress.set(p.microBatches() == 0 ? 0 : (double) p.answered() / p.microBatches());
        if (!Float.isNaN(p.loss())) {
            trainLoss.set(p.loss());
        }
        double lead = lead();
        for (var entry : roundDevices.entrySet()) {
            long[] x = entry.getValue();
            deviceProgress.labelValues(id(entry.getKey())).set(ratio(x));
            deviceLag.labelValues(id(entry.getKey())).set(lag(x, lead));
        }
    }

    private void closed(RoundSummary s) {
        closedRounds.add(s);
        roundsCompleted.inc();
        evalLoss.set(s.evalLoss());
        evalAccuracy.set(s.accuracy());
        roundTrainLoss.set(s.trainLoss());
        devicesIn.labelValues("sampled").set(s.sampled().size());
        devicesIn.labelValues("done").set(s.done().size());
        devicesIn.labelValues("late").set(s.late().size());
        devicesIn.labelValues("gone").set(s.gone().size());
        devicesIn.labelValues("benched").set(s.benched().size());
    }

    /** The live page's snapshot, consistent with itself: taken under the lock the events take. */
    public synchronized LiveView view() {
        long now = System.nanoTime();
        Map<Integer, Double> since = sinceAnswer(now);
        double lead = lead();
        List<LiveView.DeviceRow> devices = new ArrayList<>();
        for (var entry : new TreeMap<>(roundDevices).entrySet()) {
            long[] x = entry.getValue();
            long[] total = deviceTotals.getOrDefault(entry.getKey(), new long[2]);
            devices.add(new LiveView.DeviceRow(entry.getKey(), ratio(x), lag(x, lead), (int) x[5], since.getOrDefault(entry.getKey(), 0.0), total[0],
                    total[1]));
        }
        long up = 0;
        long down = 0;
        for (long[] t : deviceTotals.values()) {
            up += t[0];
            down += t[1];
        }
        List<LiveView.ShardRow> shardRows = new ArrayList<>();
        shards.forEach((id, x) -> shardRows.add(new LiveView.ShardRow(id, (int) x[0], x[1])));
        List<LiveView.RoundPoint> history = closedRounds.stream().map(r -> new LiveView.RoundPoint(r.round() + 1, r.accuracy(), r.evalLoss(),
                r.trainLoss(), r.sampled().size(), r.done().size(), r.closedByDeadline())).toList();
        RoundSummary last = closedRounds.isEmpty() ? null : closedRounds.get(closedRounds.size() - 1);
        return new LiveView(version, state, currentRound + 1, (int) roundsPlanned.get(), roundProgress.get(), samplesPerSecond(now),
                (long) samples.get(), up, down, history, devices, shardRows, last == null ? List.of() : last.late(),
                last == null ? List.of() : last.gone(), last == null ? List.of() : last.benched());
    }

    private static double ratio(long[] d) {
        return d[0] == 0 ? 0 : (double) d[1] / d[0];
    }

    /** The running round's fastest device's share of its micro-batches answered. */
    private double lead() {
        double lead = 0;
        for (long[] x : roundDevices.values()) {
            lead = Math.max(lead, ratio(x));
        }
        return lead;
    }

    /** Micro-batches a device is behind the round's fastest, at its own pace. */
    private static double lag(long[] d, double lead) {
        return Math.max(0, lead * d[0] - d[1]);
    }

    private void trimRate(long now) {
        while (!sampleTimes.isEmpty() && now - sampleTimes.peekFirst()[0] > RATE_WINDOW_NANOS) {
            sampleTimes.removeFirst();
        }
    }

    synchronized double samplesPerSecond(long now) {
        trimRate(now);
        long n = 0;
        for (long[] s : sampleTimes) {
            n += s[1];
        }
        return n / (RATE_WINDOW_NANOS / 1e9);
    }

    private synchronized Map<Integer, Double> sinceAnswer(long now) {
        Map<Integer, Double> out = new TreeMap<>();
        roundDevices.forEach((d, x) -> out.put(d, x[0] > 0 && x[1] >= x[0] ? 0 : (now - x[4]) / 1e9));
        return out;
    }

    private static String id(int n) {
        return Integer.toString(n);
    }

    private Gauge gauge(String name, String help) {
        return Gauge.builder().name(name).help(help).register(registry);
    }

    private Gauge labelled(String name, String help, String label) {
        return Gauge.builder().name(name).help(help).labelNames(label).register(registry);
    }

    private Counter counter(String name, String help) {
        return Counter.builder().name(name).help(help).register(registry);
    }
}
