package io.splitfed.actors.device;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.plan.DevicePlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.model.tensor.WireCodec;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The defence on the cut and the activation cache together: a SplitFrozen device with noise on the
 * cut sends each example's noisy activations once, and its second epoch, served from the cache,
 * resends exactly those bytes (the same hash), never a fresh draw an attacker could average. The
 * draws are the device's own: another device with the same data sends other bytes.
 */
class NoisyCacheTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static JobPlan plan;

    @BeforeAll
    static void prepare() {
        plan = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", "splitfrozen", "federation.devices", 2, "federation.split-points", "1",
                "pipeline.window", 4, "pipeline.activation-cache", true, "privacy.clip", 4.0, "privacy.noise-sigma", 0.5))));
    }

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    /** Runs one round of {@code steps} on {@code device}, crediting every micro-batch; returns each sample's row as sent, by sample id. */
    private static Map<Long, Integer> round(ActorRef<DeviceActor.Command> device, int round, int steps, TestProbe<DeviceActor.Report> coordinator) {
        TestProbe<ServerShard.Command> shard = KIT.createTestProbe();
        device.tell(new DeviceActor.StartRound(round, steps, null, shard.getRef(), coordinator.getRef(), coordinator.getRef(), new DevicePlan(1, 8, 32, 0)));
        Map<Long, Integer> rows = new LinkedHashMap<>();
        for (int answered = 0; answered < steps; answered++) {
            ServerShard.Forward f = shard.expectMessageClass(ServerShard.Forward.class, WAIT);
            float[] values = WireCodec.toFloats(f.activations());
            int seqLen = f.activations().shape()[1];
            int hidden = f.activations().shape()[2];
            for (int r = 0; r < f.batch().batch(); r++) {
                int from = r * seqLen * hidden;
                rows.put(f.batch().sampleIds()[r], Arrays.hashCode(Arrays.copyOfRange(values, from, from + f.batch().lengths()[r] * hidden)));
            }
            f.replyTo().tell(new ServerShard.Credit(round, f.seq(), 0));
        }
        coordinator.fishForMessage(WAIT, m -> m instanceof DeviceActor.RoundDone
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
        return rows;
    }

    @Test
    void aSecondEpochFromTheCacheResendsTheNoisyBytesOfTheFirstAndAnotherDeviceDrawsItsOwn() {
        int steps = plan.job().deviceData().get(0).batchesPerEpoch();
        TestProbe<DeviceActor.Report> coordinator = KIT.createTestProbe();
        ActorRef<DeviceActor.Command> device = KIT.spawn(DeviceActor.create(plan.deviceState(0)));
        Map<Long, Integer> first = round(device, 0, steps, coordinator);
        Map<Long, Integer> second = round(device, 1, steps, coordinator);
        assertThat(first).as("a whole epoch").hasSizeGreaterThan(8);
        assertThat(second).as("every example again, from the cache").containsExactlyInAnyOrderEntriesOf(first);

        ActorRef<DeviceActor.Command> twin = KIT.spawn(DeviceActor.create(plan.deviceState(0)));
        Map<Long, Integer> other = round(twin, 0, steps, KIT.createTestProbe());
        assertThat(other.keySet()).isEqualTo(first.keySet());
        assertThat(other).as("the same examples, another device's draws").allSatisfy((id, hash) -> assertThat(hash).isNotEqualTo(first.get(id)));
    }
}
