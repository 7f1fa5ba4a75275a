package io.splitfed.actors.plan;

import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.fleet.FleetDevice;
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
 * thread, which real devices do not. The allocation is still the papers' (devices in parallel,
 * the server shared evenly); only the prediction changes: each device's pipeline runs without
 * the server stage, after the devices' first micro-batches have queued behind each other, and the
 * round can be no shorter than the first micro-batch's arrival plus all the round's tensor work,
 * done one piece after another.
 *
 * <p>On a fleet's emulated time the fleet is what the planner sees: each device computes at its
 * profile's speed (inference for SplitFrozen's frozen blocks, training for SFL's), the server at
 * the server's, and energy is the profile's. The fleet's uplink rate is what a device gets at its
 * own transmit power on an even share of the cell ({@code subchannels-per-device} subchannels):
 * its channel gain is set so, without fading. The planner may then hand a slow link more
 * subchannels, or (SFLAM) send fewer bits at lower power; each device's link runs at the rate it
 * is given, and its energy is priced at the power.
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
    /** Padded tokens each device's planned round was to run. */
    private final Map<Integer, Long> lastTokens = new LinkedHashMap<>();
    private final Map<Integer, DeviceProfile> measured = new LinkedHashMap<>();
    private double serverFlops;
    private final boolean sharedExecutor;
    /** The fleet the job runs on, whose profiles replace the measured speeds and the radio's distances; null on the host's clock. */
    private final Fleet fleet;
    private ModelCost cost;

    /**
     * @param samplesPerRound samples each device trains per round
     * @param labels outputs of the task head (the server's last matrix)
     */
    public AllocationPlanner(JobSpec spec, ModelConfig model, int labels, Map<Integer, Integer> samplesPerRound, boolean sharedExecutor) {
        this(spec, model, labels, samplesPerRound, sharedExecutor, null);
    }

    /** A planner for a job on {@code fleet}'s emulated time (null: the host's), where devices and server compute apart. */
    public AllocationPlanner(JobSpec spec, ModelConfig model, int labels, Map<Integer, Integer> samplesPerRound, boolean sharedExecutor, Fleet fleet) {
        this.spec = spec;
        this.fleet = fleet;
        this.sharedExecutor = sharedExecutor && fleet == null;
        this.serverFlops = fleet != null ? fleet.server().trainGflops() * 1e9 : spec.planning().serverFlops();
        this.model = model;
        this.labels = labels;
        this.samplesPerRound = Map.copyOf(samplesPerRound);
        this.fallback = new StaticPlanner(spec, model.numLayers());
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
            out.put(d, new DevicePlan(a.splitPoints()[i], spec.training().microBatch(), a.bits(), rate / 1e6, a.power()[i]));
        }
        lastPlans.clear();
        lastPlans.putAll(out);
        double latency = fleet != null ? planned.stream().mapToDouble(d -> fleet.device(d).link().latencySeconds()).max().orElse(0)
                : spec.links().enabled() ? spec.links().latency().toNanos() / 1e9 : 0;
        double predicted = sharedExecutor ? onSharedExecutor(scenario, a) + latency : a.roundSeconds() + latency;
        return new RoundPlan(out, predicted, a.energyJoules(), spec.planning().policy());
    }

    /** The round's predicted time when devices and server share one tensor thread. */
    private static double onSharedExecutor(Scenario s, Allocation a) {
        Scenario noServer = new Scenario(s.devices(), s.channel(), s.model(), s.deviceTrains(), Double.POSITIVE_INFINITY, s.splitPoints(),
                s.ranks(), s.bits(), s.convergence(), s.microBatch());
        double[] pipelines = SflLlmOptimizer.deviceSeconds(noServer, a);
        int rank = a.rank();
        int mb = s.microBatch() > 0 ? s.microBatch() : Integer.MAX_VALUE;
        double firstMicroBatches = 0;
        double firstArrival = Double.POSITIVE_INFINITY;
        double work = 0;
        double slowestPipeline = 0;
        for (int i = 0; i < s.size(); i++) {
            Device d = s.devices().get(i);
            int k = a.splitPoints()[i];
            double perSample = s.model().deviceFlops(k, rank, s.deviceTrains()) / d.flopsPerSecond();
            int first = Math.min(mb, d.samples());
            firstMicroBatches += first * perSample;
            double rate = s.channel().rate(a.subchannels()[i], a.power()[i], d.gain());
            firstArrival = Math.min(firstArrival, first * (perSample + s.model().cutBytes(a.bits()) * 8 / rate));
            work += d.samples() * (perSample + s.model().serverFlops(k, rank) / s.serverFlopsPerSecond());
            slowestPipeline = Math.max(slowestPipeline, pipelines[i]);
        }
        double queued = firstMicroBatches - firstMicroBatches / s.size();
        return Math.max(slowestPipeline + queued, firstArrival + work);
    }

    Scenario scenario(int round, List<Integer> devices) {
        var p = spec.planning();
        int tokens = spec.data().maxLength();
        cost = new ModelCost(model.numLayers(), model.hiddenSize(), model.intermediateSize(), labels, tokens);
        List<Device> ds = new ArrayList<>();
        double fastest = 0;
        for (int d : devices) {
            DeviceProfile prof = measured.get(d);
            // the cost model has one sequence length: a device's next round counts as its padded tokens over that length
            int samples = (int) Math.max(1, Math.round((double) prof.nextRoundTokens() / tokens));
            lastTokens.put(d, prof.nextRoundTokens());
            if (fleet != null) {
                ds.add(onFleet(fleet.device(d), samples));
                continue;
            }
            // speed in the cost model's FLOPs, at the length the profile ran
            ModelCost atProfile = new ModelCost(model.numLayers(), model.hiddenSize(), model.intermediateSize(), labels, prof.tokensPerSample());
            double flops = atProfile.blockForward(0) / prof.secondsPerSampleBlock();
            fastest = Math.max(fastest, flops);
            ds.add(new Device(flops, p.devicePowerWatts(), gain(round, d), samples, p.joulesPerFlop()));
        }
        if (serverFlops <= 0) {
            serverFlops = fastest; // a first guess: the server is this machine, as fast as the fastest device
        }
        double server = serverFlops;
        Channel channel = fleet != null ? fleetChannel(devices, ds)
                : new Channel(p.subchannelsPerDevice() * devices.size(), p.subchannelHz(), p.noiseWattsPerHz(), p.totalPowerWattsPerDevice() * devices.size(),
                        p.downlinkMbps() * 1e6);
        int[] bits = p.policy().equals("sflam") ? p.bits() : new int[] {spec.pipeline().uplink().bits()};
        return new Scenario(ds, channel, cost, spec.mode() == TrainingMode.SFL, server, splitCandidates,
                new int[] {spec.training().lora().rank()}, bits, ConvergenceModel.defaults(), spec.training().microBatch());
    }

    /**
     * A fleet device as the optimiser sees it: its profile's speed and energy, at full power on its
     * transmitter, over the gain at which an even share of the cell carries its link's rate.
     */
    private Device onFleet(FleetDevice f, int samples) {
        var p = spec.planning();
        double gflops = spec.mode() == TrainingMode.SFL ? f.trainGflops() : f.forwardGflops();
        int n = p.subchannelsPerDevice();
        double b = p.subchannelHz();
        // n b log2(1 + P h / (n N0 b)) = rate, solved for h
        double gain = (Math.pow(2, f.link().uplinkMbps() * 1e6 / (n * b)) - 1) * n * p.noiseWattsPerHz() * b / f.radioWatts();
        return new Device(gflops * 1e9, f.radioWatts(), gain, samples, f.joulesPerGflop() / 1e9);
    }

    /** The cell of a fleet's devices: every device's subchannels and full power, and their slowest downlink. */
    private Channel fleetChannel(List<Integer> devices, List<Device> ds) {
        var p = spec.planning();
        double power = ds.stream().mapToDouble(Device::maxPower).sum();
        double down = devices.stream().mapToDouble(d -> fleet.device(d).link().downlinkMbps()).min().orElse(p.downlinkMbps());
        return new Channel(p.subchannelsPerDevice() * devices.size(), p.subchannelHz(), p.noiseWattsPerHz(), power, down * 1e6);
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
        if (fleet != null) {
            for (DeviceRoundStats s : devices) { // the fleet's speeds are the truth; only the next round's length is news
                measured.computeIfPresent(s.device(), (d, before) -> before.ahead(s.nextRoundTokens()));
            }
            return;
        }
        double serverWork = 0;
        double serverSeconds = 0;
        int rank = spec.training().lora().rank();
        for (DeviceRoundStats s : devices) {
            DevicePlan plan = lastPlans.get(s.device());
            int computed = s.microBatches() - s.cachedMicroBatches();
            long tokens = Math.round((double) lastTokens.getOrDefault(s.device(), 0L) * computed / Math.max(1, s.microBatches()));
            boolean timed = plan != null && tokens > 0 && s.computeSeconds() > 0 && plan.splitPoint() > 0;
            // SplitFrozen devices run their blocks forward only; SFL devices train them (about three passes)
            double passes = spec.mode() == TrainingMode.SFL ? 3 : 1;
            measured.computeIfPresent(s.device(), (d, before) -> (timed
                    ? before.updatedWith(s.computeSeconds() / passes, tokens, plan.splitPoint(), PROFILE_WEIGHT) : before).ahead(s.nextRoundTokens()));
        }
        for (ShardRoundReport r : cost == null ? List.<ShardRoundReport>of() : shards) {
            serverSeconds += r.trainSeconds();
            for (var e : r.trainedSamples().entrySet()) {
                DevicePlan plan = lastPlans.get(e.getKey());
                int k = plan == null ? splitCandidates[0] : plan.splitPoint();
                // trained samples in units of the cost model's length
                Long tokens = lastTokens.get(e.getKey());
                DeviceRoundStats ran = devices.stream().filter(x -> x.device() == e.getKey()).findFirst().orElse(null);
                double units = tokens == null || ran == null || ran.samples() == 0 ? e.getValue()
                        : (double) tokens / cost.seqLen() * e.getValue() / ran.samples();
                serverWork += units * cost.serverFlops(k, rank);
            }
        }
        if (spec.planning().serverFlops() <= 0 && serverFlops > 0 && cost != null && serverSeconds > 0 && serverWork > 0) {
            double now = serverWork / serverSeconds;
            // moved as the devices' estimates are, from the first guess on (the first round's figure includes warming up)
            serverFlops = (1 - PROFILE_WEIGHT) * serverFlops + PROFILE_WEIGHT * Math.max(serverFlops / 2, Math.min(2 * serverFlops, now));
        }
    }

    int[] splitCandidates() {
        return Arrays.copyOf(splitCandidates, splitCandidates.length);
    }
}
