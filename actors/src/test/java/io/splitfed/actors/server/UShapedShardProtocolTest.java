package io.splitfed.actors.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.metrics.SeenGradient;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.actors.wire.Microbatches;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.SplitPoint;
import io.splitfed.model.tensor.WireCodec;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A shard of the U-shaped split driven message by message: it refuses a micro-batch that carries
 * labels, hands the output of its middle blocks to the device, answers a resend with the same
 * output, steps only once the device's gradient at that output is back, refuses a malformed gradient
 * and gives up on a device that never answers, and reports what it got back per example. In SFL it
 * answers the device's gradient with the cut gradient, for the device's own blocks, and a resend
 * with that same cut gradient.
 */
class UShapedShardProtocolTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static JobPlan plan;

    @BeforeAll
    static void prepare() {
        plan = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", "splitfrozen", "federation.devices", 2, "federation.split-points", "2",
                "privacy.u-shape.enabled", true, "privacy.u-shape.tail-blocks", 1, "privacy.u-shape.record-gradients", true,
                "pipeline.ack-timeout", "1s"))));
    }

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    /** Device 0's micro-batch {@code seq} as a U-shaped device sends it: no labels. */
    private static ServerShard.Forward forward(long seq, ActorRef<ServerShard.Reply> replyTo) {
        ServerShard.Forward f = Microbatches.gaussian(plan.job().model().config().hiddenSize(), 0, 0, seq, 0f, replyTo);
        return new ServerShard.Forward(f.device(), f.splitPoint(), f.round(), f.seq(), f.roundSteps(), f.batch().withoutTokensOrLabels(),
                f.activations(), f.sentMicros(), f.replyTo());
    }

    private static ServerShard.OutputGradient gradient(ServerShard.ServerOutput o, int[] shape) {
        float[] g = new float[Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        SplittableRandom rnd = new SplittableRandom(o.seq());
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) rnd.nextGaussian() * 0.1f;
        }
        return new ServerShard.OutputGradient(0, o.round(), o.seq(), WireCodec.f32(g, shape));
    }

    @Test
    void theShardStepsOnlyOnTheDevicesGradientAtItsOutputAndNeverSeesALabel() {
        ActorRef<ServerShard.Command> shard = KIT.spawn(ServerShard.create(plan.shardState(0)));
        TestProbe<ServerShard.Reply> device = KIT.createTestProbe();
        TestProbe<ServerShard.Report> coordinator = KIT.createTestProbe();
        shard.tell(new ServerShard.RoundStarted(0));

        ServerShard.Forward labelled = Microbatches.gaussian(plan.job().model().config().hiddenSize(), 0, 0, 9, 0f, device.getRef());
        shard.tell(labelled);
        assertThat(device.expectMessageClass(ServerShard.Rejected.class, WAIT).reason()).contains("labels").contains("stay on the device");

        shard.tell(forward(10, device.getRef()));
        ServerShard.ServerOutput out = device.expectMessageClass(ServerShard.ServerOutput.class, WAIT);
        int[] shape = out.output().shape();
        assertThat(shape).containsExactly(4, 6, plan.job().model().config().hiddenSize());
        shard.tell(forward(10, device.getRef())); // resent: its output was lost
        ServerShard.ServerOutput again = device.expectMessageClass(ServerShard.ServerOutput.class, WAIT);
        assertThat(WireCodec.toFloats(again.output())).as("the same output, not a second forward").containsExactly(WireCodec.toFloats(out.output()));
        shard.tell(gradient(out, new int[] {4, 6, 3}));
        ServerShard.Rejected badShape = device.expectMessageClass(ServerShard.Rejected.class, WAIT);
        assertThat(badShape.seq()).isEqualTo(10);
        assertThat(badShape.reason()).contains("shape [4, 6, 3]");

        shard.tell(forward(11, device.getRef()));
        ServerShard.ServerOutput second = device.expectMessageClass(ServerShard.ServerOutput.class, WAIT);
        device.expectNoMessage(Duration.ofMillis(300)); // no credit before the gradient is back
        shard.tell(gradient(second, shape));
        assertThat(device.expectMessageClass(ServerShard.Credit.class, WAIT).seq()).isEqualTo(11);
        shard.tell(forward(11, device.getRef()));
        assertThat(device.expectMessageClass(ServerShard.Credit.class, WAIT).seq()).as("answered again, not trained again").isEqualTo(11);

        shard.tell(forward(12, device.getRef()));
        device.expectMessageClass(ServerShard.ServerOutput.class, WAIT); // and the device never answers
        ServerShard.Rejected overdue = device.expectMessageClass(ServerShard.Rejected.class, WAIT);
        assertThat(overdue.seq()).isEqualTo(12);
        assertThat(overdue.reason()).contains("no gradient at the server's output came back from device 0");

        shard.tell(new ServerShard.CloseRound(0, coordinator.getRef()));
        ServerShard.Closed closed = coordinator.expectMessageClass(ServerShard.Closed.class, WAIT);
        assertThat(closed.report().trainedSamples()).as("micro-batch 11 alone").isEqualTo(Map.of(0, 4));
        assertThat(closed.report().losses()).as("the loss is the device's").isEmpty();
        assertThat(closed.report().strikes()).as("the labelled batch and the malformed gradient").isEqualTo(Map.of(0, 2));
        assertThat(closed.report().seenGradients()).extracting(SeenGradient::sampleId).containsExactly(1L, 2L, 3L, 4L);
        assertThat(closed.report().seenGradients()).allSatisfy(s -> assertThat(s.seq()).isEqualTo(11));

        int layers = plan.job().model().numLayers();
        LoraAdapter trained = closed.replicas().values().iterator().next();
        assertThat(trained.tensors().keySet()).isNotEmpty().allSatisfy(k -> assertThat(SplitPoint.layerOf(k)).isBetween(2, layers - 2));
        LoraAdapter initial = plan.initialServerAdapter();
        assertThat(trained.tensors().keySet()).isEqualTo(initial.tensors().keySet());
        assertThat(trained.tensors().keySet().stream().anyMatch(k -> !Arrays.equals(trained.tensors().get(k).data(), initial.tensors().get(k).data())))
                .as("one step on the device's gradient moved the middle's adapter").isTrue();
    }

    @Test
    void aShardHandedOffWhileItWaitsForTheDeviceLeavesTheMicroBatchToItsNextIncarnation() {
        ActorRef<ShardStore.Command> store = KIT.spawn(ShardStore.create());
        TestProbe<ServerShard.Reply> device = KIT.createTestProbe();
        TestProbe<ServerShard.Report> coordinator = KIT.createTestProbe();
        ActorRef<ServerShard.Command> first = KIT.spawn(ServerShard.create(plan.shardState(0).storedIn(store)));
        first.tell(new ServerShard.RoundStarted(0));
        first.tell(forward(20, device.getRef()));
        ServerShard.ServerOutput out = device.expectMessageClass(ServerShard.ServerOutput.class, WAIT);
        TestProbe<Object> watcher = KIT.createTestProbe();
        first.tell(new ServerShard.HandOff());
        watcher.expectTerminated(first, WAIT);

        ActorRef<ServerShard.Command> next = KIT.spawn(ServerShard.create(plan.shardState(0).storedIn(store)));
        ServerShard.ServerOutput again = device.expectMessageClass(ServerShard.ServerOutput.class, WAIT);
        assertThat(again.seq()).as("the next incarnation runs the untrained micro-batch again").isEqualTo(20);
        assertThat(WireCodec.toFloats(again.output())).containsExactly(WireCodec.toFloats(out.output()));
        next.tell(gradient(again, again.output().shape()));
        assertThat(device.expectMessageClass(ServerShard.Credit.class, WAIT).seq()).isEqualTo(20);
        next.tell(new ServerShard.CloseRound(0, coordinator.getRef()));
        assertThat(coordinator.expectMessageClass(ServerShard.Closed.class, WAIT).report().trainedSamples()).isEqualTo(Map.of(0, 4));
    }

    @Test
    void inSflTheShardAnswersTheDevicesGradientWithTheCutGradientForItsBlocks() {
        JobPlan sfl = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", "sfl", "federation.devices", 2, "federation.split-points", "2",
                "privacy.u-shape.enabled", true, "privacy.u-shape.tail-blocks", 1, "pipeline.ack-timeout", "1s"))));
        ActorRef<ServerShard.Command> shard = KIT.spawn(ServerShard.create(sfl.shardState(0)));
        TestProbe<ServerShard.Reply> device = KIT.createTestProbe();
        shard.tell(new ServerShard.RoundStarted(0));

        ServerShard.Forward f = forward(30, device.getRef());
        shard.tell(f);
        ServerShard.ServerOutput out = device.expectMessageClass(ServerShard.ServerOutput.class, WAIT);
        shard.tell(forward(30, device.getRef())); // resent: its output was lost
        assertThat(device.expectMessageClass(ServerShard.ServerOutput.class, WAIT).seq()).as("the output again, while the step waits").isEqualTo(30);
        shard.tell(gradient(out, out.output().shape()));
        ServerShard.CutGradient cut = device.expectMessageClass(ServerShard.CutGradient.class, WAIT);
        assertThat(cut.seq()).isEqualTo(30);
        assertThat(cut.gradient().shape()).as("the gradient at the activations the device sent").containsExactly(f.activations().shape());
        assertThat(cut.gradient().firstNonFinite()).isNegative();
        double sq = 0;
        for (float v : WireCodec.toFloats(cut.gradient())) {
            sq += (double) v * v;
        }
        assertThat(sq).as("the device's gradient went back through the middle blocks").isPositive();
        ServerShard.CutGradient again = null;
        for (int tries = 0; again == null && tries < 30; tries++) { // as a device resends after each ack timeout: the first may come before the step ends
            shard.tell(forward(30, device.getRef()));
            try {
                again = device.expectMessageClass(ServerShard.CutGradient.class, Duration.ofSeconds(1));
            } catch (AssertionError stillTraining) {
                // not kept yet: the cut gradient leaves mid-step, the step's end keeps it
            }
        }
        assertThat(again).as("a resend after the step is answered").isNotNull();
        assertThat(WireCodec.toFloats(again.gradient())).as("answered again, not trained again").containsExactly(WireCodec.toFloats(cut.gradient()));
        device.expectNoMessage(Duration.ofMillis(300)); // no credit: in SFL the cut gradient is the answer
    }
}
