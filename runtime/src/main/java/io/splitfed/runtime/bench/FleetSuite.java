package io.splitfed.runtime.bench;

import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.fleet.Fleets;

import com.typesafe.config.Config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A fleet of 10,000 emulated phones in one JVM: SplitFrozen on the {@code phones} fleet's clock
 * (mid-range phones on LTE, an A100-class server), against 8 phones with the same samples. Each
 * device holds one or two SST-2 examples. Reported: the job's heap per device (after a full GC
 * between the rounds, less the idle JVM's), the host's seconds per round, and the emulated
 * seconds of a round on the fleet.
 */
public final class FleetSuite implements BenchSuite {

    static final int MANY = 10_000;
    static final int FEW = 8;

    @Override
    public String name() {
        return "fleet";
    }

    @Override
    public String description() {
        return MANY + " emulated phones in one JVM vs " + FEW + " (SplitFrozen on the phones fleet's clock): heap per device, host seconds per round, "
                + "emulated seconds per round";
    }

    @Override
    public List<Comparison> run(boolean quick) throws Exception {
        int many = quick ? 1000 : MANY;
        int samples = quick ? 2000 : 16_000;
        List<Comparison> out = new ArrayList<>();
        long idle = ScaleSuite.heapAfterGc();
        ScaleSuite.Run few = run(FEW, samples);
        ScaleSuite.Run lots = run(many, samples);
        System.err.printf(Locale.ROOT, "bench: fleet: heap after GC idle %.1f MiB, with %d devices %.1f MiB, with %d devices %.1f MiB%n",
                idle / 1048576.0, FEW, few.heapBytes() / 1048576.0, many, lots.heapBytes() / 1048576.0);
        String devices = String.format(Locale.ROOT, "%,d devices", many);
        out.add(new Comparison(name(), "job heap per device, " + devices, (double) (lots.heapBytes() - idle) / many / 1024, "KiB",
                "job heap per device, " + FEW + " devices", (double) (few.heapBytes() - idle) / FEW / 1024, "KiB", false));
        out.add(new Comparison(name(), "host seconds per round, " + devices, lots.wallSecondsPerRound(), "s",
                FEW + " devices, same samples", few.wallSecondsPerRound(), "s", false));
        out.add(new Comparison(name(), "emulated seconds per round, " + devices, lots.roundSeconds(), "s",
                FEW + " devices, same samples", few.roundSeconds(), "s", false));
        out.add(new Comparison(name(), "host seconds per emulated second, " + devices, lots.wallSecondsPerRound() / lots.roundSeconds(), "",
                FEW + " devices, same samples", few.wallSecondsPerRound() / few.roundSeconds(), "", false));
        return out;
    }

    private static ScaleSuite.Run run(int devices, int samples) throws Exception {
        Config config = ScaleSuite.config("splitfrozen", devices, samples);
        Fleet fleet = Fleets.resolve(config, "phones", devices, config.getLong("splitfed.job.seed"), () -> {
            throw new IllegalStateException("the fleet suite runs on the phones fleet");
        });
        return ScaleSuite.measure(config, fleet);
    }
}
