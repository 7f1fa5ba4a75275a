package io.splitfed.actors.device;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.plan.DevicePlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.testing.TestJobs;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

/**
 * A device driven message by message, with probes for its coordinator and its shard: it profiles
 * itself, streams its round's micro-batches within its window, resends one left unanswered past the
 * ack timeout, counts a rejected one as settled, and reports its round from its own actor.
 */
class DeviceActorProtocolTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static JobPlan plan;

    @BeforeAll
    static void prepare() {
        plan = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", "splitfrozen", "federation.devices", 2,
                "federation.split-points", "2", "pipeline.window", 2, "pipeline.ack-timeout", "1s"))));
    }

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    @Test
    void aDeviceStreamsItsRoundWithinItsWindowResendsWhatGoesUnansweredAndReportsFromItsOwnActor() {
        ActorRef<DeviceActor.Command> device = KIT.spawn(DeviceActor.create(plan.deviceState(0)));
        TestProbe<DeviceActor.Report> coordinator = KIT.createTestProbe();
        TestProbe<ServerShard.Command> shard = KIT.createTestProbe();

        device.tell(new DeviceActor.Profile(3, coordinator.getRef()));
        DeviceActor.Profiled profiled = coordinator.expectMessageClass(DeviceActor.Profiled.class, WAIT);
        assertThat(profiled.profile().device()).isZero();
        assertThat(profiled.profile().blocks()).isEqualTo(2);
        assertThat(profiled.profile().seconds()).isPositive();

        device.tell(new DeviceActor.StartRound(0, 3, null, shard.getRef(), coordinator.getRef(), coordinator.getRef(), new DevicePlan(2, 8, 32, 0)));
        ServerShard.Forward first = shard.expectMessageClass(ServerShard.Forward.class, WAIT);
        ServerShard.Forward second = shard.expectMessageClass(ServerShard.Forward.class, WAIT);
        assertThat(first.round()).isZero();
        assertThat(first.splitPoint()).isEqualTo(2);
        assertThat(first.batch().batch()).isEqualTo(8);
        assertThat(first.batch().ids()).as("token ids stay on the device").isNull();
        assertThat(second.seq()).isGreaterThan(first.seq());
        assertThat(first.activations().shape()[2]).isEqualTo(plan.job().model().config().hiddenSize());
        // window 2: the third waits for an answer. Once the device has answered a later request, anything it sent the
        // shard before that answer is already in the shard's queue
        device.tell(new DeviceActor.Profile(1, coordinator.getRef()));
        coordinator.expectMessageClass(DeviceActor.Profiled.class, WAIT);
        shard.expectNoMessage(Duration.ZERO);

        first.replyTo().tell(new ServerShard.Credit(0, first.seq(), 0));
        DeviceActor.Progress progress = coordinator.expectMessageClass(DeviceActor.Progress.class, WAIT);
        assertThat(progress.answered()).isEqualTo(1);
        assertThat(progress.steps()).isEqualTo(3);
        ServerShard.Forward third = shard.expectMessageClass(ServerShard.Forward.class, WAIT);
        assertThat(third.seq()).isGreaterThan(second.seq());

        // the second is never answered: after the ack timeout it goes again, the same micro-batch
        ServerShard.Forward resent = shard.fishForMessage(Duration.ofSeconds(10),
                m -> m instanceof ServerShard.Forward f && f.seq() == second.seq()
                        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore()).stream()
                .map(ServerShard.Forward.class::cast).reduce((a, b) -> b).orElseThrow();
        assertThat(resent.seq()).isEqualTo(second.seq());
        second.replyTo().tell(new ServerShard.Credit(0, second.seq(), 0));
        third.replyTo().tell(new ServerShard.Rejected(0, third.seq(), "test: refused"));

        DeviceActor.RoundDone done = coordinator.fishForMessage(WAIT, m -> m instanceof DeviceActor.RoundDone
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore()).stream()
                .map(DeviceActor.RoundDone.class::cast).reduce((a, b) -> b).orElseThrow();
        assertThat(done.device()).isZero();
        assertThat(done.round()).isZero();
        assertThat(done.from()).as("reported from the device's own actor").isEqualTo(device);
        assertThat(done.update()).as("SplitFrozen devices train nothing").isNull();
        assertThat(done.stats().samples()).as("two answered micro-batches of 8; the rejected one is not counted").isEqualTo(16);
        assertThat(done.stats().resent()).isPositive();
    }
}
