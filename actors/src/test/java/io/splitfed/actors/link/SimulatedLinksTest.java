package io.splitfed.actors.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The decorator a job installs for simulated links and faults, on a clock and a timer the test
 * moves by hand: messages arrive when the link would have carried them and in the order they were
 * sent; a cut link loses what is sent while it is cut; a poisoned device's update leaves scaled.
 * The plain job's links send at once and change nothing.
 */
class SimulatedLinksTest {

    private static final ActorTestKit KIT = ActorTestKit.create();

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    private long now = 5_000_000_000L;
    private final List<Runnable> timers = new ArrayList<>();

    /** Moves the clock on by {@code millis} and runs the timers, as the scheduler would once they are due. */
    private void advance(long millis) {
        now += millis * 1_000_000L;
        List<Runnable> due = new ArrayList<>(timers);
        timers.clear();
        due.forEach(Runnable::run);
    }

    private SimulatedLinks links(LinkShaper up, LinkShaper down, DeviceConditions conditions) {
        return new SimulatedLinks(Outbox.get(KIT.system()), (delay, key, task) -> timers.add(task), () -> now, d -> up, d -> down, d -> conditions);
    }

    @Test
    void aMessageArrivesWhenTheLinkHasCarriedItAndNeverBeforeOneSentEarlier() {
        TestProbe<String> shard = KIT.createTestProbe();
        DeviceConditions conditions = new DeviceConditions();
        // 1 Mbit/s and 10 ms: 125,000 bytes take 1 s on the link, and arrive 10 ms after that
        SimulatedLinks links = links(new LinkShaper(1, Duration.ofMillis(10)), null, conditions);
        conditions.linkFault(500, 0, now);
        long first = links.up(0, shard.getRef(), "first", 125_000);
        assertThat(first - now).as("transfer, latency and the fault's extra 500 ms").isEqualTo(1_510_000_000L);
        conditions.linkFault(0, 0, now);
        long second = links.up(0, shard.getRef(), "second", 10);
        assertThat(second).as("its own delay would end before the first arrives").isLessThan(first);

        advance(1_000);
        shard.expectNoMessage(Duration.ofMillis(50));
        advance(600);
        assertThat(shard.receiveMessage()).isEqualTo("first");
        assertThat(shard.receiveMessage()).as("behind the first, not ahead of it").isEqualTo("second");
    }

    @Test
    void aCutLinkLosesWhatIsSentWhileItIsCutAndCarriesWhatIsSentAfter() {
        TestProbe<String> shard = KIT.createTestProbe();
        DeviceConditions conditions = new DeviceConditions();
        SimulatedLinks links = links(null, null, conditions);
        conditions.linkFault(0, 200, now);
        assertThat(links.up(0, shard.getRef(), "lost", 10)).as("lost at once").isEqualTo(now);
        advance(300);
        links.up(0, shard.getRef(), "after the cut", 10);
        assertThat(shard.receiveMessage()).isEqualTo("after the cut");
        shard.expectNoMessage(Duration.ofMillis(50));
    }

    @Test
    void answersGoDownTheirOwnLinkAndAPoisonedDevicesUpdateLeavesScaled() {
        TestProbe<String> device = KIT.createTestProbe();
        DeviceConditions conditions = new DeviceConditions();
        SimulatedLinks links = links(null, new LinkShaper(8, Duration.ofMillis(20)), conditions);
        links.down(3, device.getRef(), "cut gradient", 1_000_000);
        advance(999);
        device.expectNoMessage(Duration.ofMillis(50));
        advance(21);
        assertThat(device.receiveMessage()).as("1 MB at 8 Mbit/s, and 20 ms").isEqualTo("cut gradient");

        LoraAdapter update = new LoraAdapter(new LoraConfig(2, 4, 0.0, Set.of(LoraTarget.Q)),
                Map.of("w", new HostTensor(new int[] {2}, new float[] {1, -2})), Set.of());
        assertThat(links.outgoing(3, update)).as("an honest device's").isSameAs(update);
        conditions.poison(-10);
        assertThat(links.outgoing(3, update).get("w").data()).containsExactly(-10, 20);
        assertThat(links.outgoing(3, null)).isNull();

        Links plain = Links.direct(Outbox.get(KIT.system()));
        assertThat(plain.simulated()).isFalse();
        plain.up(3, device.getRef(), "at once", 1_000_000_000);
        assertThat(device.receiveMessage()).isEqualTo("at once");
        assertThat(plain.outgoing(3, update)).isSameAs(update);
    }
}
