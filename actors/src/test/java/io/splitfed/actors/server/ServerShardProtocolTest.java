package io.splitfed.actors.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.actors.wire.Microbatches;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

/**
 * A server worker driven message by message: a micro-batch is trained and credited, the same one
 * again is answered without a second step, a bad one is rejected with its reason, one for a
 * closed round is refused, and the round's report counts all of it.
 */
class ServerShardProtocolTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static JobPlan plan;

    @BeforeAll
    static void prepare() {
        plan = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", "splitfrozen", "federation.devices", 2,
                "server.mix-devices", 1, "federation.split-points", "2"))));
    }

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    private static ServerShard.Forward forward(int device, int round, long seq, float poison, ActorRef<ServerShard.Reply> replyTo) {
        return Microbatches.gaussian(plan.job().model().config().hiddenSize(), device, round, seq, poison, replyTo);
    }

    @Test
    void aMicroBatchIsTrainedOnceAnsweredAgainWhenResentAndBadOnesAreRejectedWithTheirReason() {
        ActorRef<ServerShard.Command> shard = KIT.spawn(ServerShard.create(plan.shardState(0)));
        TestProbe<ServerShard.Reply> device = KIT.createTestProbe();
        TestProbe<ServerShard.Report> coordinator = KIT.createTestProbe();

        shard.tell(new ServerShard.RoundStarted(0));
        shard.tell(forward(0, 0, 10, 0f, device.getRef()));
        assertThat(device.expectMessageClass(ServerShard.Credit.class, WAIT).seq()).isEqualTo(10);

        shard.tell(forward(0, 0, 10, 0f, device.getRef())); // resent: its credit was lost
        assertThat(device.expectMessageClass(ServerShard.Credit.class, WAIT).seq()).isEqualTo(10);

        shard.tell(forward(1, 0, 11, Float.NaN, device.getRef()));
        ServerShard.Rejected nan = device.expectMessageClass(ServerShard.Rejected.class, WAIT);
        assertThat(nan.seq()).isEqualTo(11);
        assertThat(nan.reason()).contains("NaN");

        shard.tell(new ServerShard.CloseRound(0, coordinator.getRef()));
        ServerShard.Closed closed = coordinator.expectMessageClass(ServerShard.Closed.class, WAIT);
        assertThat(closed.report().round()).isZero();
        assertThat(closed.report().trainedSamples()).as("trained once").isEqualTo(Map.of(0, 4));
        assertThat(closed.report().duplicates()).isEqualTo(1);
        assertThat(closed.report().strikes()).isEqualTo(Map.of(1, 1));
        assertThat(closed.report().losses()).hasSize(1);
        assertThat(closed.replicas()).hasSize(1);
        assertThat(closed.weights().values()).containsExactly(4.0);

        shard.tell(forward(0, 0, 12, 0f, device.getRef()));
        assertThat(device.expectMessageClass(ServerShard.Rejected.class, WAIT).reason()).isEqualTo("round 0 is closed");

        shard.tell(new ServerShard.ReportLoad(coordinator.getRef()));
        ServerShard.Load load = coordinator.expectMessageClass(ServerShard.Load.class, WAIT);
        assertThat(load.steps()).isEqualTo(1);
        assertThat(load.queued()).isZero();
    }

    @Test
    void aShardBackFromItsRoundStartAfterItsNodeDiedDropsCloseRoundUntilTheCoordinatorSaysTheRoundAgain() {
        ActorRef<ShardStore.Command> store = KIT.spawn(ShardStore.create());
        TestProbe<ServerShard.Reply> device = KIT.createTestProbe();
        TestProbe<ServerShard.Report> coordinator = KIT.createTestProbe();
        ActorRef<ServerShard.Command> first = KIT.spawn(ServerShard.create(plan.shardState(0).storedIn(store)));
        first.tell(new ServerShard.RoundStarted(0)); // leaves its round-start snapshot in the store
        first.tell(forward(0, 0, 10, 0f, device.getRef()));
        device.expectMessageClass(ServerShard.Credit.class, WAIT);
        KIT.stop(first); // its node died: no hand-off

        ActorRef<ServerShard.Command> again = KIT.spawn(ServerShard.create(plan.shardState(0).storedIn(store)));
        again.tell(new ServerShard.CloseRound(0, coordinator.getRef())); // sent before the node died, delivered to the new incarnation
        again.tell(forward(0, 0, 10, 0f, device.getRef())); // the rewound device sends the round again
        assertThat(device.expectMessageClass(ServerShard.Credit.class, WAIT).seq()).isEqualTo(10);
        // the credit shows the close was dropped (a closed round rejects its micro-batches), and a close is answered when handled
        coordinator.expectNoMessage(Duration.ZERO);

        again.tell(new ServerShard.RoundStarted(0)); // the coordinator, told by the store
        again.tell(new ServerShard.CloseRound(0, coordinator.getRef()));
        ServerShard.Closed closed = coordinator.expectMessageClass(ServerShard.Closed.class, WAIT);
        assertThat(closed.report().trainedSamples()).as("the round's work, trained again once").isEqualTo(Map.of(0, 4));
        assertThat(closed.report().duplicates()).isZero();
    }
}
