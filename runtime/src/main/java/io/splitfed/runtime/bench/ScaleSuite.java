package io.splitfed.runtime.bench;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.model.tensor.TensorExecutor;

import com.typesafe.config.Config;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Many devices in one JVM: the same SST-2 samples dealt to 1,000 simulated devices and to 8. The
 * devices' frozen parts share the one set of base weights (on the engine, off the heap); each
 * device holds its data, its cursor, and (SFL) its adapter and optimizer moments. Reported, each
 * against the 8-device run: the job's heap per device (heap after a full GC between the rounds,
 * every device alive, less the idle JVM's), what each device past 8 adds, and training samples/s.
 * The same samples are dealt in both runs, so the data's own heap is in both.
 */
public final class ScaleSuite implements BenchSuite {

    static final int MANY = 1000;
    static final int FEW = 8;

    @Override
    public String name() {
        return "scale";
    }

    @Override
    public String description() {
        return MANY + " simulated devices in one JVM vs " + FEW + ": heap per device and samples/s (SFL and SplitFrozen)";
    }

    /**
     * What one run measured.
     *
     * @param wallSecondsPerRound the host's seconds per round (from a round's start to the next's)
     * @param roundSeconds the rounds' own seconds: emulated on a fleet, else the host's
     */
    record Run(int devices, long heapBytes, double samplesPerSecond, long samples, double wallSecondsPerRound, double roundSeconds) {}

    @Override
    public List<Comparison> run(boolean quick) throws Exception {
        int samples = quick ? 2000 : 6000;
        List<Comparison> out = new ArrayList<>();
        for (String mode : quick ? List.of("sfl") : List.of("sfl", "splitfrozen")) {
            long idle = heapAfterGc();
            Run few = measure(mode, FEW, samples);
            Run many = measure(mode, MANY, samples);
            double perDevice = (double) (many.heapBytes() - idle) / MANY;
            double perDeviceFew = (double) (few.heapBytes() - idle) / FEW;
            double added = (double) (many.heapBytes() - few.heapBytes()) / (MANY - FEW);
            System.err.printf(java.util.Locale.ROOT, "bench: scale %s: heap after GC idle %.1f MiB, with %d devices %.1f MiB, with %d devices %.1f MiB%n", mode,
                    idle / 1048576.0, FEW, few.heapBytes() / 1048576.0, MANY, many.heapBytes() / 1048576.0);
            out.add(new Comparison(name(), mode + ": job heap per device, " + MANY + " devices", perDevice / 1024, "KiB",
                    "job heap per device, " + FEW + " devices", perDeviceFew / 1024, "KiB", false));
            out.add(new Comparison(name(), mode + ": heap each device adds (" + FEW + " to " + MANY + ")", added / 1024, "KiB",
                    "job heap per device, " + FEW + " devices", perDeviceFew / 1024, "KiB", false));
            out.add(new Comparison(name(), mode + ": training throughput, " + MANY + " devices", many.samplesPerSecond(), "samples/s",
                    FEW + " devices, same samples", few.samplesPerSecond(), "samples/s", true));
        }
        return out;
    }

    static Config config(String mode, int devices, int samples) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("mode", mode);
        o.put("federation.devices", devices);
        o.put("federation.rounds", 2);
        o.put("federation.epochs", 2);
        o.put("data.train-limit", samples);
        o.put("data.eval-limit", 256);
        // one micro-batch size for both runs, so per-step cost does not differ by batch size
        o.put("training.micro-batch", 8);
        // the cache would hold every activation of the first epoch, whoever holds it
        o.put("pipeline.activation-cache", false);
        return JobConfig.load(JobConfig.jobSettings(o));
    }

    static Run measure(String mode, int devices, int samples) throws Exception {
        return measure(config(mode, devices, samples), null);
    }

    /** The run of {@code config}, on {@code fleet}'s emulated clock when there is one. */
    static Run measure(Config config, Fleet fleet) throws Exception {
        PreparedJob job = JobPreparation.prepare(JobSpec.fromConfig(config));
        int devices = job.devices();
        AtomicLong heap = new AtomicLong();
        List<Long> roundStarts = Collections.synchronizedList(new ArrayList<>());
        try {
            Consumer<JobEvent> events = e -> {
                if (e instanceof JobEvent.RoundStarted) {
                    roundStarts.add(System.nanoTime());
                }
                if (e instanceof JobEvent.RoundClosed c && c.summary().round() == 0) {
                    heap.set(heapAfterGc()); // between rounds, every device alive with its state
                }
            };
            var running = fleet == null ? TrainingJob.run(job, config, events) : TrainingJob.run(job, config, events, fleet);
            var result = running.result().get(60, TimeUnit.MINUTES);
            running.terminated().toCompletableFuture().get(1, TimeUnit.MINUTES); // nothing of this run is left for the next one's measure
            double train = 0;
            double rounds = 0;
            long n = 0;
            for (RoundSummary r : result.rounds()) {
                train += r.trainSeconds();
                rounds += r.seconds();
                n += r.samples();
            }
            // the first round's host seconds, start to start: its compute, and with a fleet the clock's work
            double wall = roundStarts.size() >= 2 ? (roundStarts.get(1) - roundStarts.get(0)) / 1e9 : Double.NaN;
            return new Run(devices, heap.get(), n / train, n, wall, rounds / result.rounds().size());
        } finally {
            TensorExecutor.shared().run(job.model()::close);
        }
    }

    static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
