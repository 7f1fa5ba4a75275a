package io.splitfed.actors.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.actors.job.HostSpeed;
import io.splitfed.model.testing.SharedData;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;


/** The fleets a job can name: built in, drawn from FLASH's real trace, this host, or a file; and the errors a bad one gets. */
class FleetsTest {

    @TempDir
    Path tmp;

    private final Config config = ConfigFactory.load(ConfigFactory.parseMap(java.util.Map.of("splitfed.data-root", SharedData.root().toString())));

    @Test
    void phonesAreMidRangePhonesOnLteWithAnA100ClassServer() {
        Fleet f = Fleets.resolve(config, "phones", 8, 42, FleetsTest::noProbe);
        assertThat(f.devices()).hasSize(8).allSatisfy(d -> {
            assertThat(d.tier()).isEqualTo("phone-mid");
            assertThat(d.forwardGflops()).isEqualTo(23.1);
            assertThat(d.link()).isEqualTo(new LinkProfile(3.29, 4.32, 40));
        });
        assertThat(f.server().tier()).isEqualTo("a100");
        assertThat(f.server().trainGflops()).isEqualTo(15600);
        assertThat(Fleets.builtin(config)).containsExactly("host", "phones", "trace");
    }

    @Test
    void theTraceFleetIsASeededDrawFromFlashsPhonesAndNetworks() {
        FlashTrace trace = FlashTrace.read(SharedData.path("traces/flash"));
        assertThat(trace.cpuScores()).hasSize(333);
        assertThat(trace.networks()).hasSize(19);
        Fleet a = Fleets.resolve(config, "trace", 50, 7, FleetsTest::noProbe);
        Fleet b = Fleets.resolve(config, "trace", 50, 7, FleetsTest::noProbe);
        Fleet c = Fleets.resolve(config, "trace", 50, 8, FleetsTest::noProbe);
        assertThat(a.devices()).isEqualTo(b.devices()).isNotEqualTo(c.devices());
        // every speed is a phone's score over the Snapdragon 855 anchor (3,212 at 48 GFLOP/s)
        assertThat(a.devices()).allSatisfy(d -> {
            int score = Integer.parseInt(d.tier().substring("trace:score-".length()));
            assertThat(trace.cpuScores()).contains(score);
            assertThat(d.forwardGflops()).isCloseTo(48.0 * score / 3212, org.assertj.core.api.Assertions.within(1e-9));
            assertThat(d.link().uplinkMbps()).isPositive();
        });
        assertThat(a.devices().stream().map(FleetDevice::forwardGflops).distinct().count()).as("a heterogeneous draw").isGreaterThan(10);
    }

    @Test
    void aFileSplitsTheDevicesByShareAndMayWriteATierOut() throws Exception {
        Path file = tmp.resolve("mixed.conf");
        Files.writeString(file, """
                devices = [
                  { tier = phone-high, link = wifi, share = 1 }
                  { tier = { name = old-phone, gflops = 2 }, link = { uplink-mbps = 1, downlink-mbps = 2, latency-ms = 80 }, share = 3, availability = 0.5 }
                ]
                server = h100
                """);
        Fleet f = Fleets.resolve(config, file.toString(), 10, 1, FleetsTest::noProbe);
        assertThat(f.devices()).extracting(FleetDevice::tier).containsExactly("phone-high", "phone-high", "phone-high",
                "old-phone", "old-phone", "old-phone", "old-phone", "old-phone", "old-phone", "old-phone");
        assertThat(f.device(9).link()).isEqualTo(new LinkProfile(1, 2, 80));
        assertThat(f.server().tier()).isEqualTo("h100");
        // the old phones are there for about half the rounds, the same half on every run; the others always
        long present = java.util.stream.IntStream.range(0, 1000).filter(r -> f.present(9, r, 42)).count();
        assertThat(present).isBetween(450L, 550L);
        assertThat(java.util.stream.IntStream.range(0, 1000).filter(r -> f.present(9, r, 42)).boxed().toList())
                .isEqualTo(java.util.stream.IntStream.range(0, 1000).filter(r -> f.present(9, r, 42)).boxed().toList());
        assertThat(java.util.stream.IntStream.range(0, 1000).allMatch(r -> f.present(0, r, 42))).isTrue();
    }

    @Test
    void hostIsThisMachineAsMeasured() {
        Fleet f = Fleets.resolve(config, "host", 3, 1, () -> new HostSpeed(100e9, 80e9, 4));
        assertThat(f.devices()).hasSize(3).allSatisfy(d -> {
            assertThat(d.forwardGflops()).isEqualTo(100);
            assertThat(d.trainGflops()).isEqualTo(80);
            assertThat(d.link()).isEqualTo(LinkProfile.NONE);
        });
        assertThat(f.server().trainGflops()).isEqualTo(80);
    }

    @Test
    void aBadFleetNamesTheFileTheLineAndTheField() throws Exception {
        assertThatThrownBy(() -> Fleets.resolve(config, "tablets", 2, 1, FleetsTest::noProbe))
                .hasMessageContaining("fleet 'tablets'").hasMessageContaining("host, phones, trace");
        Path file = tmp.resolve("bad.conf");
        Files.writeString(file, "devices = [\n  { tier = phone-mid, link = lte }\n  { tier = pager, link = lte }\n]\nserver = a100\n");
        assertThatThrownBy(() -> Fleets.resolve(config, file.toString(), 2, 1, FleetsTest::noProbe))
                .hasMessageContaining(file.toString()).hasMessageContaining(": 3").hasMessageContaining("tier").hasMessageContaining("'pager'")
                .hasMessageContaining("phone-mid");
        Files.writeString(file, "devices = [{ tier = { gflops = -1 }, link = lte }]\nserver = a100\n");
        assertThatThrownBy(() -> Fleets.resolve(config, file.toString(), 2, 1, FleetsTest::noProbe))
                .hasMessageContaining(file.toString()).hasMessageContaining("gflops").hasMessageContaining("expected a positive speed");
        Files.writeString(file, "devices = [{ tier = phone-mid, link = { uplink-mbps = 0, downlink-mbps = 1, latency-ms = 1 } }]\nserver = a100\n");
        assertThatThrownBy(() -> Fleets.resolve(config, file.toString(), 2, 1, FleetsTest::noProbe))
                .hasMessageContaining(file.toString()).hasMessageContaining("expected positive rates");
        Files.writeString(file, "devices = [{ tier = phone-mid, link = lte, availability = 1.5 }]\nserver = a100\n");
        assertThatThrownBy(() -> Fleets.resolve(config, file.toString(), 2, 1, FleetsTest::noProbe))
                .hasMessageContaining(file.toString()).hasMessageContaining("availability").hasMessageContaining("at most 1");
        Files.writeString(file, "devices = phones\nserver = a100\n");
        assertThatThrownBy(() -> Fleets.resolve(config, file.toString(), 2, 1, FleetsTest::noProbe))
                .hasMessageContaining("'phones': expected \"trace\"");
    }

    @Test
    void aMissingTraceSaysWhatWasExpected() {
        Config elsewhere = ConfigFactory.load(ConfigFactory.parseMap(java.util.Map.of("splitfed.data-root", tmp.toString())));
        assertThatThrownBy(() -> Fleets.resolve(elsewhere, "trace", 2, 1, FleetsTest::noProbe))
                .hasMessageContaining(tmp.resolve("traces/flash").toString()).hasMessageContaining(FlashTrace.PHONES);
    }

    private static HostSpeed noProbe() {
        throw new AssertionError("only the host fleet measures the host");
    }

}
