package io.splitfed.actors.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;

import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fleet's price of a round, worked by hand on rounds whose counted work makes each stage a
 * round number of seconds: a phone of 10 GFLOP/s on a link of 8 Mbit/s each way (1 MB a second)
 * with 50 ms one way, and a server of 100 GFLOP/s.
 */
class EmulatedTimeTest {

    private static final LinkProfile LINK = new LinkProfile(8, 8, 50);
    private static final FleetDevice PHONE = new FleetDevice("phone", 10, 10, LINK, 0.02, 0.2);
    private static final FleetDevice SERVER = new FleetDevice("server", 100, 100, LinkProfile.NONE, 0, 0);

    @Test
    void oneMicroBatchPassesThroughEveryStageOnce() {
        // 1 s of compute, 2 s up, 1 s of server, 0.5 s down, and a round trip of 0.1 s
        JobResult r = result("splitfrozen", List.of(round(0, 0.7, 0)), List.of(stats(0, 0, 1, 10e9, 2e6, 0.5e6)), List.of(shard(0, 100e9, Map.of(0, 32))), null);
        EmulatedTime t = EmulatedTime.priced(new Fleet("f", "test", List.of(PHONE), SERVER), r, 4, List.of(0.5));
        assertThat(t.rounds().get(0).seconds()).isCloseTo(1 + 2 + 1 + 0.5 + 0.1, within(1e-9));
        // 10 GFLOP at 0.02 J each, and 2 s of transmitting at 0.2 W
        assertThat(t.deviceJoules()).isCloseTo(10 * 0.02 + 2 * 0.2, within(1e-9));
    }

    @Test
    void furtherMicroBatchesAddTheSlowestStageOrARoundTripOverTheWindow() {
        // ten micro-batches: per micro-batch 0.1 s compute, 0.4 s up, 0.1 s server, 0.05 s down; the cycle is 0.75 s
        DeviceRoundStats s = stats(0, 0, 10, 10e9, 4e6, 0.5e6);
        Fleet fleet = new Fleet("f", "test", List.of(PHONE), SERVER);
        List<ShardRoundReport> shard = List.of(shard(0, 100e9, Map.of(0, 320)));
        double wide = EmulatedTime.priced(fleet, result("splitfrozen", List.of(round(0, 0.7, 0)), List.of(s), shard, null), 4, List.of()).seconds();
        assertThat(wide).as("the uplink is the slowest stage").isCloseTo(0.75 + 9 * 0.4, within(1e-9));
        double narrow = EmulatedTime.priced(fleet, result("splitfrozen", List.of(round(0, 0.7, 0)), List.of(s), shard, null), 1, List.of()).seconds();
        assertThat(narrow).as("one micro-batch in flight: each waits for the one before").isCloseTo(10 * 0.75, within(1e-9));
    }

    @Test
    void theSharedServerBoundsARoundWhenItsWorkOutlastsEveryDevice() {
        // two devices, each 1 s compute and 1 s up in one micro-batch, 5 s of server work each: 10 s on one server
        List<DeviceRoundStats> ds = List.of(stats(0, 0, 1, 10e9, 1e6, 0), stats(1, 0, 1, 10e9, 1e6, 0));
        JobResult r = result("splitfrozen", List.of(round(0, 0.7, 0, 1)), ds, List.of(shard(0, 1000e9, Map.of(0, 10, 1, 10))), null);
        EmulatedTime t = EmulatedTime.priced(new Fleet("f", "test", List.of(PHONE, PHONE), SERVER), r, 4, List.of());
        // the first micro-batch arrives after 1 + 1 + 0.05 s, the server works 10 s, the reply takes 0.05 s
        assertThat(t.rounds().get(0).seconds()).isCloseTo(2.05 + 10 + 0.05, within(1e-9));
        assertThat(t.rounds().get(0).bound()).isEqualTo("server");
    }

    @Test
    void sflDevicesFetchAndSendTheirAdapterAndOnlyDevicesThatFinishedCount() {
        // an adapter of 250,000 floats is 1 MB: 1 s down and 1 s up, with a round trip
        LoraAdapter adapter = new LoraAdapter(new LoraConfig(8, 16, 0, Set.of(LoraTarget.Q)), Map.of("a", HostTensor.zeros(250_000)), Set.of());
        DeviceRoundStats done = stats(0, 0, 1, 10e9, 1e6, 1e6);
        DeviceRoundStats late = stats(1, 0, 1, 1000e9, 100e6, 0);
        JobResult r = result("sfl", List.of(round(0, 0.7, 0)), List.of(done, late), List.of(shard(0, 0, Map.of(0, 10))), adapter);
        EmulatedTime t = EmulatedTime.priced(new Fleet("f", "test", List.of(PHONE, PHONE), SERVER), r, 4, List.of());
        // half of 10 GFLOP forward and half training, both at 10 GFLOP/s; 1 s up, 1 s down; then the adapter
        assertThat(t.seconds()).isCloseTo(1 + 1 + 1 + 0.1 + (1 + 1 + 0.1), within(1e-9));
    }

    @Test
    void splitLoraDevicesTakeTurnsAgainstTheSharedServerAdapterSoTheirPathsAddUp() {
        // each device: 1 s compute (half forward, half training), 1 s up, 1 s down, one micro-batch, a 0.1 s round trip
        List<DeviceRoundStats> ds = List.of(stats(0, 0, 1, 10e9, 1e6, 1e6), stats(1, 0, 1, 10e9, 1e6, 1e6));
        Fleet fleet = new Fleet("f", "test", List.of(PHONE, PHONE), SERVER);
        JobResult shared = result("sfl", List.of(round(0, 0.7, 0, 1)), ds, List.of(), null);
        assertThat(EmulatedTime.priced(fleet, shared, 4, List.of()).seconds()).isCloseTo(2 * 3.1, within(1e-9));
        JobSpec spec = JobSpec.fromConfig(ConfigFactory.parseString("splitfed.job.mode = sfl, splitfed.job.server.sfl-server-model = per-device")
                .withFallback(ConfigFactory.load()));
        JobResult perDevice = new JobResult(spec, List.of(round(0, 0.7, 0, 1)), ds, List.of(), null, null, 1);
        assertThat(EmulatedTime.priced(fleet, perDevice, 4, List.of()).seconds()).as("SFL-V1: side by side").isCloseTo(3.1, within(1e-9));
    }

    @Test
    void timeToAccuracyIsTheEndOfTheFirstRoundThatReachesIt() {
        List<RoundSummary> rounds = List.of(round(0, 0.70, 0), round(1, 0.86, 0), round(2, 0.84, 0), round(3, 0.91, 0));
        List<DeviceRoundStats> ds = List.of(stats(0, 0, 1, 10e9, 0, 0), stats(0, 1, 1, 20e9, 0, 0), stats(0, 2, 1, 10e9, 0, 0), stats(0, 3, 1, 10e9, 0, 0));
        FleetDevice noLink = new FleetDevice("phone", 10, 10, LinkProfile.NONE, 0.02, 0.2);
        EmulatedTime t = EmulatedTime.priced(new Fleet("f", "test", List.of(noLink), SERVER), result("splitfrozen", rounds, ds, List.of(), null), 4,
                List.of(0.85, 0.95));
        assertThat(t.rounds()).extracting(EmulatedTime.Round::endSeconds).containsExactly(1.0, 3.0, 4.0, 5.0);
        assertThat(t.timeTo(0.85)).isEqualTo(3.0);
        assertThat(t.timeTo(0.95)).isNaN();
        @SuppressWarnings("unchecked")
        Map<String, Object> tta = (Map<String, Object>) t.toJson().get("time_to_accuracy");
        assertThat(tta).containsEntry("0.85", 3.0).containsEntry("0.95", null);
    }

    @Test
    void centralizedTrainingRunsOnTheServer() {
        JobResult r = result("centralized", List.of(round(0, 0.7, 0)), List.of(stats(0, 0, 5, 300e9, 0, 0)), List.of(), null);
        assertThat(EmulatedTime.priced(new Fleet("f", "test", List.of(PHONE), SERVER), r, 4, List.of()).seconds()).isCloseTo(3.0, within(1e-9));
    }

    private static JobResult result(String mode, List<RoundSummary> rounds, List<DeviceRoundStats> stats, List<ShardRoundReport> shards, LoraAdapter deviceAdapter) {
        JobSpec spec = JobSpec.fromConfig(ConfigFactory.parseString("splitfed.job.mode = " + mode).withFallback(ConfigFactory.load()));
        return new JobResult(spec, rounds, stats, shards, deviceAdapter, null, 1);
    }

    private static RoundSummary round(int round, double accuracy, Integer... done) {
        List<Integer> d = List.of(done);
        return new RoundSummary(round, d, d, List.of(), List.of(), false, true, accuracy, 0.5, 0.5, 100, 1, 1, Double.NaN, List.of(), 0);
    }

    private static DeviceRoundStats stats(int device, int round, int microBatches, double flops, double bytesUp, double bytesDown) {
        return new DeviceRoundStats(device, round, 32 * microBatches, microBatches, 0, 1, flops, (long) bytesUp, (long) bytesDown, 0, List.of(), List.of(), 0);
    }

    private static ShardRoundReport shard(int round, double flops, Map<Integer, Integer> trained) {
        return new ShardRoundReport(0, round, trained, 0, List.of(), List.of(), 1, flops, 0, List.of(), Map.of(), "local");
    }
}
