package io.splitfed.actors.coordinator;

import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.plan.RoundPlan;
import io.splitfed.actors.plan.RoundPlanner;
import io.splitfed.actors.plan.StaticPlanner;

import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntPredicate;

/**
 * How a round opens: a seeded sample of the devices that can take part, the planner's plan for
 * them (the job's settings when the planner fails), and how many micro-batches each runs.
 */
final class RoundOpening {

    private final RoundRules settings;
    private final RoundPlanner planner;
    private final StaticPlanner fallback;
    private final Logger log;

    RoundOpening(RoundRules settings, Logger log) {
        this.settings = settings;
        this.log = log;
        this.fallback = new StaticPlanner(settings.spec(), settings.layers());
        this.planner = settings.planner() != null ? settings.planner() : fallback;
    }

    /** SplitLoRA (SFL with one shared server adapter): devices train against the server one after another. */
    boolean inTurns() {
        var spec = settings.spec();
        return spec.mode() == io.splitfed.actors.job.TrainingMode.SFL && !spec.server().perDeviceReplicas();
    }

    RoundPlanner planner() {
        return planner;
    }

    /** A seeded share of {@code devices} that {@code canSample}, at least {@code min-devices} of them, in order. */
    List<Integer> sample(int round, Collection<Integer> devices, IntPredicate canSample) {
        List<Integer> alive = new ArrayList<>();
        for (int d : devices) {
            if (canSample.test(d)) {
                alive.add(d);
            }
        }
        var f = settings.spec().federation();
        int want = (int) Math.ceil(f.sampleFraction() * settings.devices().size());
        want = Math.min(alive.size(), Math.max(want, Math.min(f.minDevices(), alive.size())));
        java.util.Collections.shuffle(alive, new Random(settings.spec().seed() * 1_000_003L + round));
        List<Integer> out = new ArrayList<>(alive.subList(0, want));
        out.sort(null);
        return out;
    }

    /** The planner's plan for the round; the job's settings when the planner fails or leaves a device out. */
    RoundPlan plan(int round, List<Integer> sampled, Map<Integer, DeviceProfile> profiles) {
        try {
            RoundPlan p = planner.plan(round, sampled, Map.copyOf(profiles));
            for (int d : sampled) {
                p.of(d);
            }
            if (!Double.isNaN(p.predictedSeconds())) {
                log.info("round {} plan ({}): predicted {} s, {} J; {}", round + 1, p.planner(),
                        String.format("%.2f", p.predictedSeconds()), String.format("%.3g", p.predictedJoules()), p.devices());
            }
            return p;
        } catch (RuntimeException e) {
            log.error("round {}: the planner failed ({}); running the job's settings", round + 1, e.toString());
            return fallback.plan(round, sampled, Map.of());
        }
    }

    /** Micro-batches each sampled device runs: the same samples per round at whatever micro-batch size the plan gives. */
    Map<Integer, Integer> steps(List<Integer> sampled, RoundPlan plan) {
        Map<Integer, Integer> steps = new LinkedHashMap<>();
        int jobMicroBatch = settings.spec().training().microBatch();
        for (int d : sampled) {
            int samples = settings.stepsPerRound().get(d) * jobMicroBatch;
            steps.put(d, (int) Math.ceil((double) samples / plan.of(d).microBatch()));
        }
        return steps;
    }
}
