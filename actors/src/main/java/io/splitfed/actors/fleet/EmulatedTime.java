package io.splitfed.actors.fleet;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.TrainingMode;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A finished job's rounds in a fleet's time. A job that ran on the fleet's emulated clock
 * ({@link #clocked}) measured them; beside them, and for a job that ran on the host's clock
 * ({@link #priced}), the pipeline model prices each round's work as the job counted it (every
 * device's FLOPs, micro-batches and bytes each way, every shard's FLOPs) at the fleet's speeds and
 * links. A device's round is a pipeline of its micro-batches through four stages (its compute,
 * its uplink, its share of the server, its downlink): one micro-batch through all of them, plus
 * one interval per further micro-batch, the slowest stage's or, when the window of micro-batches
 * in flight is what limits, a round trip over the window. Devices run side by side, except
 * SplitLoRA's (SFL with one shared server adapter), which take turns: their paths add up. The
 * server is shared: the round lasts at least all its work, from the first arrival to the first
 * reply. SFL and FedLoRA devices also fetch the global adapter and send theirs. Centralized
 * training runs on the server.
 *
 * <p>The devices' energy is the fleet's price of their counted compute and transmitting, either way.
 * Where a planner allocated a device's uplink, the round's rate and power are the plan's.
 */
public final class EmulatedTime {

    /**
     * One round: its emulated seconds, the job's emulated clock at its end, the pipeline model's
     * price of its work (which bound it: the devices or the shared server), and the devices' energy.
     */
    public record Round(int round, double accuracy, double seconds, double endSeconds, double wallEndSeconds, double modelledSeconds, double deviceJoules,
            String bound) {}

    private final Fleet fleet;
    private final List<Round> rounds;
    private final List<Double> targets;
    private final boolean clocked;

    private EmulatedTime(Fleet fleet, List<Round> rounds, List<Double> targets, boolean clocked) {
        this.fleet = fleet;
        this.rounds = List.copyOf(rounds);
        this.targets = List.copyOf(targets);
        this.clocked = clocked;
    }

    /**
     * A job that ran on {@code fleet}'s emulated clock: each round's seconds as the clock measured
     * them; {@code wallRoundEnds} are the host's seconds at each round's end, from the job's start.
     */
    public static EmulatedTime clocked(Fleet fleet, JobResult result, int window, List<Double> targets, List<Double> wallRoundEnds) {
        EmulatedTime model = priced(fleet, result, window, targets);
        List<Round> out = new ArrayList<>();
        double clock = 0;
        for (int i = 0; i < model.rounds.size(); i++) {
            Round m = model.rounds.get(i);
            double seconds = result.rounds().get(i).seconds();
            clock += seconds;
            double wall = i < wallRoundEnds.size() ? wallRoundEnds.get(i) : Double.NaN;
            out.add(new Round(m.round(), m.accuracy(), seconds, clock, wall, m.modelledSeconds(), m.deviceJoules(), m.bound()));
        }
        return new EmulatedTime(fleet, out, targets, true);
    }

    /**
     * Prices {@code result}'s rounds on {@code fleet}; {@code window} is the job's micro-batches in
     * flight per device; {@code targets} are the accuracies whose time the reports give.
     */
    public static EmulatedTime priced(Fleet fleet, JobResult result, int window, List<Double> targets) {
        TrainingMode mode = result.spec().mode();
        // SplitLoRA: the devices train against the one server adapter one after another
        boolean inTurns = mode == TrainingMode.SFL && !result.spec().server().perDeviceReplicas();
        double adapterBytes = switch (mode) {
            case SFL -> result.deviceAdapter() == null ? 0 : 4.0 * result.deviceAdapter().parameterCount();
            case FEDLORA -> 4.0 * result.wholeAdapter().parameterCount();
            case SPLITFROZEN, CENTRALIZED -> 0;
        };
        Map<Integer, List<DeviceRoundStats>> byRound = new HashMap<>();
        for (DeviceRoundStats s : result.deviceStats()) {
            byRound.computeIfAbsent(s.round(), r -> new ArrayList<>()).add(s);
        }
        Map<Integer, List<ShardRoundReport>> shardsByRound = new HashMap<>();
        for (ShardRoundReport s : result.shardReports()) {
            shardsByRound.computeIfAbsent(s.round(), r -> new ArrayList<>()).add(s);
        }
        List<Round> out = new ArrayList<>();
        double clock = 0;
        double wall = 0;
        for (RoundSummary summary : result.rounds()) {
            List<DeviceRoundStats> devices = byRound.getOrDefault(summary.round(), List.of()).stream()
                    .filter(s -> summary.done().contains(s.device())).toList();
            Round r = round(fleet, mode, inTurns, summary, devices, shardsByRound.getOrDefault(summary.round(), List.of()), adapterBytes, Math.max(1, window));
            clock += r.seconds();
            wall += summary.seconds();
            out.add(new Round(r.round(), r.accuracy(), r.seconds(), clock, wall, r.seconds(), r.deviceJoules(), r.bound()));
        }
        return new EmulatedTime(fleet, out, targets, false);
    }

    private static Round round(Fleet fleet, TrainingMode mode, boolean inTurns, RoundSummary summary, List<DeviceRoundStats> devices,
            List<ShardRoundReport> shards, double adapterBytes, int window) {
        double serverFlops = 0;
        Map<Integer, Integer> trained = new HashMap<>();
        for (ShardRoundReport s : shards) {
            serverFlops += s.flops();
            s.trainedSamples().forEach((d, n) -> trained.merge(d, n, Integer::sum));
        }
        long trainedTotal = trained.values().stream().mapToLong(Integer::longValue).sum();
        FleetDevice server = fleet.server();
        double longest = 0;
        String bound = "devices";
        double joules = 0;
        double serverSeconds = 0;
        double firstArrival = Double.MAX_VALUE;
        double firstReply = Double.MAX_VALUE;
        for (DeviceRoundStats s : devices) {
            if (mode == TrainingMode.CENTRALIZED) {
                longest = Math.max(longest, server.computeSeconds(0, s.flops()));
                bound = "server";
                continue;
            }
            FleetDevice p = s.uplinkMbps() > 0 ? fleet.device(s.device()).withUplink(s.uplinkMbps(), s.uplinkWatts()) : fleet.device(s.device());
            double forward = switch (mode) {
                case SPLITFROZEN -> s.flops();
                case SFL -> s.flops() / 2;
                case FEDLORA, CENTRALIZED -> 0;
            };
            double c = p.computeSeconds(forward, s.flops() - forward);
            double u = p.link().upSeconds(s.bytesUp());
            double w = p.link().downSeconds(s.bytesDown());
            double v = trainedTotal == 0 ? 0 : server.computeSeconds(0, serverFlops * trained.getOrDefault(s.device(), 0) / trainedTotal);
            double latency = p.link().latencySeconds();
            int steps = Math.max(1, s.microBatches());
            double cycle = (c + u + v + w) / steps + (u > 0 || w > 0 || latency > 0 ? 2 * latency : 0);
            double interval = Math.max(Math.max(c, u) / steps, Math.max(Math.max(v, w) / steps, cycle / window));
            double adapter = adapterBytes == 0 ? 0 : p.link().downSeconds(adapterBytes) + p.link().upSeconds(adapterBytes) + 2 * latency;
            double path = cycle + (steps - 1) * interval + adapter;
            longest = inTurns ? longest + path : Math.max(longest, path);
            serverSeconds += v;
            firstArrival = Math.min(firstArrival, (c + u) / steps + latency + (adapterBytes == 0 ? 0 : p.link().downSeconds(adapterBytes) + latency));
            firstReply = Math.min(firstReply, w / steps + latency);
            joules += p.joules(s.flops(), u + p.link().upSeconds(adapterBytes));
        }
        double seconds = longest;
        if (serverSeconds > 0 && firstArrival + serverSeconds + firstReply > seconds) {
            seconds = firstArrival + serverSeconds + firstReply;
            bound = "server";
        }
        return new Round(summary.round(), summary.accuracy(), seconds, 0, 0, seconds, joules, bound);
    }

    public Fleet fleet() {
        return fleet;
    }

    public List<Round> rounds() {
        return rounds;
    }

    /** The emulated seconds of the whole job. */
    public double seconds() {
        return rounds.isEmpty() ? 0 : rounds.get(rounds.size() - 1).endSeconds();
    }

    /** The pipeline model's price of the whole job's work. */
    public double modelledSeconds() {
        return rounds.stream().mapToDouble(Round::modelledSeconds).sum();
    }

    public double deviceJoules() {
        return rounds.stream().mapToDouble(Round::deviceJoules).sum();
    }

    /** The emulated clock at the end of the first round whose accuracy reaches {@code target}; NaN when none does (FedScale's time to accuracy). */
    public double timeTo(double target) {
        for (Round r : rounds) {
            if (r.accuracy() >= target) {
                return r.endSeconds();
            }
        }
        return Double.NaN;
    }

    /** {@code metrics.json}'s {@code emulated} (beside a calibration, when there is one). */
    public Map<String, Object> toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("fleet", fleet.name());
        out.put("source", fleet.source());
        out.put("clock", clocked ? "emulated: the job's actors ran on the fleet's clock" : "host: each round's counted work priced by the pipeline model");
        out.put("seconds", seconds());
        out.put("modelled_seconds", modelledSeconds());
        out.put("device_joules", deviceJoules());
        Map<String, Object> tta = new LinkedHashMap<>();
        for (double t : targets) {
            double s = timeTo(t);
            tta.put(key(t), Double.isNaN(s) ? null : s);
        }
        out.put("time_to_accuracy", tta);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Round r : rounds) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("round", r.round() + 1);
            m.put("accuracy", Double.isNaN(r.accuracy()) ? null : r.accuracy());
            m.put("seconds", r.seconds());
            m.put("end_seconds", r.endSeconds());
            m.put("wall_end_seconds", Double.isNaN(r.wallEndSeconds()) ? null : r.wallEndSeconds());
            m.put("modelled_seconds", r.modelledSeconds());
            m.put("device_joules", r.deviceJoules());
            m.put("bound", r.bound());
            list.add(m);
        }
        out.put("rounds", list);
        return out;
    }

    /** A target's key in {@code time_to_accuracy}: "0.85". */
    public static String key(double target) {
        return String.format(Locale.ROOT, "%.2f", target);
    }

    /** The summary's lines. */
    public String lines() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "emulated on %s (%s): %s in all, device energy %.1f J%n", fleet.name(), fleet.source(), duration(seconds()),
                deviceJoules()));
        b.append(clocked
                ? String.format(Locale.ROOT, "  (the job ran on the fleet's clock; the pipeline model prices the same work at %s)%n", duration(modelledSeconds()))
                : "  (each round's counted work priced by the pipeline model; the actors ran on this host's clock)\n");
        StringBuilder tta = new StringBuilder("  time to accuracy:");
        for (double t : targets) {
            double s = timeTo(t);
            tta.append(String.format(Locale.ROOT, "  %s %s", key(t), Double.isNaN(s) ? "not reached" : duration(s)));
        }
        b.append(tta).append('\n');
        StringBuilder per = new StringBuilder("  rounds (emulated end | wall end):");
        for (Round r : rounds) {
            per.append(String.format(Locale.ROOT, "  %d: %s | %.0f s", r.round() + 1, duration(r.endSeconds()), r.wallEndSeconds()));
        }
        b.append(per).append('\n');
        return b.toString();
    }

    static String duration(double seconds) {
        if (seconds < 120) {
            return String.format(Locale.ROOT, "%.1f s", seconds);
        }
        if (seconds < 7200) {
            return String.format(Locale.ROOT, "%.1f min", seconds / 60);
        }
        return String.format(Locale.ROOT, "%.2f h", seconds / 3600);
    }
}
