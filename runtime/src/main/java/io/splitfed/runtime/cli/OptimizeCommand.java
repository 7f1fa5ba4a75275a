package io.splitfed.runtime.cli;

import io.splitfed.optimizer.Allocation;
import io.splitfed.optimizer.Baselines;
import io.splitfed.optimizer.Scenario;
import io.splitfed.optimizer.Scenarios;
import io.splitfed.optimizer.SflamOptimizer;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** Plans subchannels, power, split points, rank and bit-width for a scenario, and prints the prediction. */
@Command(name = "optimize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"SflLLM's delay-minimising (or SFLAM's latency-energy) resource allocation for a scenario,",
            "with the predicted delay and energy against equal-bandwidth, fixed-split, fixed-rank and random plans."})
public final class OptimizeCommand implements Callable<Integer> {

    @Option(names = "--scenario", description = "Scenario JSON (write a template with --write-scenario)")
    Path scenario;

    @Option(names = "--devices", defaultValue = "10", description = "Without --scenario: devices in a seeded random scenario (default: ${DEFAULT-VALUE})")
    int devices;

    @Option(names = "--seed", defaultValue = "1", description = "Without --scenario: its seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--mode", defaultValue = "sfl", description = "sfl (devices train LoRA) or splitfrozen (frozen device blocks) (default: ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--delay-weight", description = "SFLAM: weight of delay against energy, 0 to 1; without it, minimise delay (SflLLM)")
    Double delayWeight;

    @Option(names = "--write-scenario", description = "Write the scenario used as JSON, to edit and pass back with --scenario")
    Path writeScenario;

    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        Scenario s = scenario != null ? read(json, scenario) : Scenarios.random(devices, seed, !mode.equals("splitfrozen"));
        if (writeScenario != null) {
            json.writeValue(writeScenario.toFile(), s);
        }
        long t0 = System.nanoTime();
        Map<String, Allocation> all = Baselines.compare(s, seed);
        Allocation chosen = all.get("optimised (SflLLM)");
        if (delayWeight != null) {
            chosen = SflamOptimizer.optimize(s, chosen.splitPoints()[0], chosen.rank(), delayWeight);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "scenario: %d devices, %d subchannels of %.0f kHz, %.2f W budget, %s, solved in %.2f s%n", s.size(),
                s.channel().subchannels(), s.channel().subchannelHz() / 1e3, s.channel().totalPower(), s.deviceTrains() ? "sfl" : "splitfrozen", seconds);
        System.out.printf(Locale.ROOT, "plan (%s): rank %d, %d bits, split points %s%n", delayWeight == null ? "SflLLM, minimum delay" : "SFLAM, delay weight " + delayWeight,
                chosen.rank(), chosen.bits(), summary(chosen.splitPoints()));
        System.out.printf(Locale.ROOT, "  subchannels per device %s; power per device %.3f to %.3f W (sum %.3f W)%n", summary(chosen.subchannels()),
                Arrays.stream(chosen.power()).min().orElse(0), Arrays.stream(chosen.power()).max().orElse(0), Arrays.stream(chosen.power()).sum());
        System.out.printf(Locale.ROOT, "  predicted: %.3f s per round x %.1f rounds = %.1f s; device energy %.1f J%n%n", chosen.roundSeconds(), chosen.rounds(),
                chosen.totalSeconds(), chosen.totalEnergy());
        System.out.println("| plan | rank | split | round (s) | rounds | delay (s) | vs optimised | energy (J) |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        double best = all.get("optimised (SflLLM)").totalSeconds();
        for (Map.Entry<String, Allocation> e : all.entrySet()) {
            Allocation a = e.getValue();
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %.3f | %.1f | %.1f | %.2f | %.1f |%n", e.getKey(), a.rank(), summary(a.splitPoints()),
                    a.roundSeconds(), a.rounds(), a.totalSeconds(), a.totalSeconds() / best, a.totalEnergy());
        }
        return 0;
    }

    private static Scenario read(ObjectMapper json, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UserError("--scenario " + file + ": no such file");
        }
        try {
            return json.readValue(file.toFile(), Scenario.class);
        } catch (IOException e) {
            throw new UserError("--scenario " + file + ": " + e.getMessage().lines().findFirst().orElse("unreadable"));
        }
    }

    private static String summary(int[] v) {
        int min = Arrays.stream(v).min().orElse(0);
        int max = Arrays.stream(v).max().orElse(0);
        return min == max ? Integer.toString(min) : min + ".." + max;
    }
}
