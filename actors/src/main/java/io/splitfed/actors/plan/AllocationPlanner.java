package io.splitfed.actors.plan;

import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.TrainingMode;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.model.config.ModelConfig;
import io.splitfed.optimizer.Allocation;
import io.splitfed.optimizer.Channel;
import io.splitfed.optimizer.ConvergenceModel;
import io.splitfed.optimizer.Device;
import io.splitfed.optimizer.ModelCost;
import io.splitfed.optimizer.Scenario;
import io.splitfed.optimizer.SflLlmOptimizer;
import io.splitfed.optimizer.SflamOptimizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Plans each round with the optimiser, from what the devices measured: their compute speed (a
 * profile at join, then their rounds' timings), the padded length of their data, the server's
 * speed (its rounds), and the round's channel gains. {@code sflllm} minimises the round's delay
 * over split points, subchannels and power; {@code sflam} the weighted latency-energy objective
 * over the bit-width, power and bandwidth. Each device's link then runs at its allocated rate.
 *
 * <p>The LoRA rank and SFL's split point stay as the job set them: both shape adapters that are
 * already trained, so {@code splitfed optimize} chooses them before the job.
 *
 * <p>In one JVM ({@code sharedExecutor}) every device and the server compute on the same tensor
 * thread, which real devices do not. The allocation is still the papers' (devices in parallel);
 * only the prediction adds what the shared thread costs: the devices' first micro-batches queue
 * behind each other when the round starts, and the round can be no shorter than all the tensor
 * work of the round done one piece after another.
 */
public final class AllocationPlanner implements RoundPlanner {

    private static final double PROFILE_WEIGHT = 0.5;

    private final JobSpec spec;
    private final ModelConfig model;
    private final int labels;
    private final Map<Integer, Integer> samplesPerRound;
    private final StaticPlanner fallback;
    private final int[] splitCandidates;
    private final Map<Integer, DevicePlan> lastPlans = new LinkedHashMap<>();
    private final Map<Integer, DeviceProfile> measured = new LinkedHashMap<>();
    private double serverFlops;
    private final boolean sharedExecutor;
    private ModelCost cost;

    /**
     * @param samplesPerRound samples each device trains per round
     * @param labels outputs of the task head (the server's last matrix)
     */
    public AllocationPlanner(JobSpec spec, ModelConfig model, int labels, Map<Integer, Integer> samplesPerRound, boolean sharedExecutor) {
        this.spec = spec;
        this.sharedExecutor = sharedExecutor;
        this.model = model;
        this.labels = labels;
        this.samplesPerRound = Map.copyOf(samplesPerRound);
        this.fallback = new StaticPlanner(spec, model.numLayers());
        this.serverFlops = spec.planning().serverFlops();
        int[] configured = spec.planning().splitPoints();
        if (spec.mode() != TrainingMode.SPLITFROZEN) {
            splitCandidates = new int[] {spec.federation().splitPoint(0)};
        } else if (configured.length > 0) {
            splitCandidates = configured.clone();
        } else {
            splitCandidates = IntStream.range(spec.federation().minSplitPoint(), model.numLayers()).toArray();
        }
    }

    @Override
    public RoundPlan plan(int round, List<Integer> sampled, Map<Integer, DeviceProfile> profiles) {
        profiles.forEach(measured::putIfAbsent); // join profiles seed what the rounds then refine
        List<Integer> planned = new ArrayList<>();
        for (int d : sampled) {
            if (measured.containsKey(d)) {
                planned.add(d);
            }
        }
        if (planned.isEmpty()) {
            RoundPlan p = fallback.plan(round, sampled, profiles);
            return new RoundPlan(p.devices(), Double.NaN, Double.NaN, spec.planning().policy() + " (no profiles yet: static)");
        }
        Scenario scenario = scenario(round, planned);
        Allocation a = spec.planning().policy().equals("sflam")
                ? SflamOptimizer.optimize(scenario, splitCandidates[0], spec.training().lora().rank(), spec.planning().delayWeight())
                : SflLlmOptimizer.optimize(scenario);
        Map<Integer, DevicePlan> out = new LinkedHashMap<>();
        for (int d : sampled) {
            int i = planned.indexOf(d);
            if (i < 0) {
                out.put(d, fallback.planFor(d)); // not profiled yet: the job's settings
                continue;
            }
            double rate = scenario.channel().rate(a.subchannels()[i], a.power()[i], scenario.devices().get(i).gain());
            out.put(d, new DevicePlan(a.splitPoints()[i], spec.training().microBatch(), a.bits(), rate / 1e6));
        }
        lastPlans.clear();
        lastPlans.putAll(out);
        double latency = spec.links().enabled() ? spec.links().latency().toNanos() / 1e9 : 0;
        double predicted = a.roundSeconds() + latency;
        if (sharedExecutor) {
            predicted = onSharedExecutor(scenario, a, predicted);
        }
        return new RoundPlan(out, predicted, a.energyJoules(), spec.planning().policy());
    }

    /** The round's predicted time when devices and server share one tensor thread. */
    private static double onSharedExecutor(Scenario s, Allocation a, double parallel) {
        int rank = a.rank();
        int mb = s.microBatch();
        double firstMicroBatches = 0;
        double work = 0;
        for (int i = 0; i < s.size(); i++) {
            Device d = s.devices().get(i);
            int k = a.splitPoints()[i];
            double perSample = s.model().deviceFlops(k, rank, s.deviceTrains()) / d.flopsPerSecond();
            firstMicroBatches += Math.min(mb, d.samples()) * perSample;
            work += d.samples() * (perSample + s.model().serverFlops(k, rank) / s.serverFlopsPerSecond());
        }
        double meanFirst = firstMicroBatches / s.size();
        return Math.max(parallel + firstMicroBatches - meanFirst, work);
    }

    Scenario scenario(int round, List<Integer> devices) {
        var p = spec.planning();
        double tokens = devices.stream().mapToDouble(d -> measured.get(d).dataTokensPerSample()).average().orElse(spec.data().maxLength());
        cost = new ModelCost(model.numLayers(), model.hiddenSize(), model.intermediateSize(), labels, (int) Math.round(tokens));
        List<Device> ds = new ArrayList<>();
        double fastest = 0;
        for (int d : devices) {
            DeviceProfile prof = measured.get(d);
            // speed in the cost model's FLOPs, at the length the profile ran
            ModelCost atProfile = new ModelCost(model.numLayers(), model.hiddenSize(), model.intermediateSize(), labels, prof.tokensPerSample());
            double flops = atProfile.blockForward(0) / prof.secondsPerSampleBlock();
            fastest = Math.max(fastest, flops);
            ds.add(new Device(flops, p.devicePowerWatts(), gain(round, d), samplesPerRound.get(d), p.joulesPerFlop()));
        }
        double server = serverFlops > 0 ? serverFlops : fastest;
        Channel channel = new Channel(p.subchannelsPerDevice() * devices.size(), p.subchannelHz(), p.noiseWattsPerHz(),
                p.totalPowerWattsPerDevice() * devices.size(), p.downlinkMbps() * 1e6);
        int[] bits = p.policy().equals("sflam") ? p.bits() : new int[] {spec.pipeline().uplink().bits()};
        return new Scenario(ds, channel, cost, spec.mode() == TrainingMode.SFL, server, splitCandidates,
                new int[] {spec.training().lora().rank()}, bits, ConvergenceModel.defaults(), spec.training().microBatch());
    }

    /** Path loss at the device's seeded distance, times this round's Rayleigh fading. */
    double gain(int round, int device) {
        var p = spec.planning();
        SplittableRandom place = new SplittableRandom(spec.seed() * 7919 + device);
        double km = (p.minDistanceMeters() + (p.maxDistanceMeters() - p.minDistanceMeters()) * place.nextDouble()) / 1000;
        double pathLossDb = 128.1 + 37.6 * Math.log10(km);
        double fading = 1;
        if (p.fading()) {
            SplittableRandom fade = new SplittableRandom((spec.seed() * 104729 + round) * 31 + device);
            fading = -Math.log(1 - fade.nextDouble());
        }
        return Math.pow(10, -pathLossDb / 10) * fading;
    }

    @Override
    public void observe(int round, Collection<DeviceRoundStats> devices, Collection<ShardRoundReport> shards) {
        double serverWork = 0;
        double serverSeconds = 0;
        int rank = spec.training().lora().rank();
        for (DeviceRoundStats s : devices) {
            DevicePlan plan = lastPlans.get(s.device());
            int computed = s.microBatches() - s.cachedMicroBatches();
            if (plan == null || computed <= 0 || s.computeSeconds() <= 0 || plan.splitPoint() == 0) {
                continue;
            }
            int samples = (int) Math.round((double) s.samples() * computed / s.microBatches());
            // SplitFrozen devices run their blocks forward only; SFL devices train them (about three passes)
            double passes = spec.mode() == TrainingMode.SFL ? 3 : 1;
            measured.computeIfPresent(s.device(), (d, before) -> before.updatedWith(s.computeSeconds() / passes, samples, plan.splitPoint(), PROFILE_WEIGHT));
        }
        for (ShardRoundReport r : cost == null ? List.<ShardRoundReport>of() : shards) {
            serverSeconds += r.trainSeconds();
            for (var e : r.trainedSamples().entrySet()) {
                DevicePlan plan = lastPlans.get(e.getKey());
                int k = plan == null ? splitCandidates[0] : plan.splitPoint();
                serverWork += e.getValue() * cost.serverFlops(k, rank);
            }
        }
        if (spec.planning().serverFlops() <= 0 && cost != null && serverSeconds > 0 && serverWork > 0) {
            serverFlops = serverWork / serverSeconds;
        }
    }

    int[] splitCandidates() {
        return Arrays.copyOf(splitCandidates, splitCandidates.length);
    }
}
