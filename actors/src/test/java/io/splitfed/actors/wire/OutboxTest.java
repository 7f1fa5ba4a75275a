package io.splitfed.actors.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.testing.TestJobs;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Whichever behaviour sends it, a message with tensors bound for another node goes the bulk way
 * (a claim the recipient pulls), and a small one goes plain: the {@link Outbox} decides, not the
 * call site. Two ActorSystems on loopback; a real server shard on one answers micro-batches from a
 * device on the other, whose edge records exactly what arrived off the wire. With simulated links
 * the shard's cut gradient leaves later, through {@link Outbox#sendLater}: the path that once sent
 * it as a plain tell.
 */
@Tag("cluster")
class OutboxTest {

    private final LoopbackNodes nodes = new LoopbackNodes();

    @AfterEach
    void stop() throws Exception {
        nodes.close();
    }

    /**
     * A server shard of a job in {@code mode} on one node, and a device's edge on another that
     * records what arrives off the wire, as the shard addresses it.
     */
    private record TwoNodes(JobPlan plan, ActorSystem<Void> device, LinkedBlockingQueue<Object> raw, ActorRef<ServerShard.Reply> deviceFromServer,
            ActorRef<ServerShard.Command> shard) {}

    private TwoNodes start(String mode, boolean links) {
        JobPlan plan = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", mode, "federation.devices", 1,
                "federation.split-points", "2", "links.enabled", links, "links.latency", "200ms"))));
        ActorSystem<Void> server = nodes.start("splitfed.wire.side-channel.min-bytes = 0\n");
        ActorSystem<Void> device = nodes.start("splitfed.wire.side-channel.min-bytes = 0\n");
        LinkedBlockingQueue<Object> raw = new LinkedBlockingQueue<>();
        ActorRef<Object> edge = device.systemActorOf(Behaviors.receiveMessage(m -> {
            raw.add(m);
            return Behaviors.same();
        }), "device-edge", Props.empty());
        ActorRef<ServerShard.Reply> deviceFromServer = ActorRefResolver.get(server).resolveActorRef(edge.path().toStringWithAddress(device.address()));
        ActorRef<ServerShard.Command> shard = server.systemActorOf(ServerShard.create(plan.shardState(0)), "shard", Props.empty());
        shard.tell(new ServerShard.RoundStarted(0));
        return new TwoNodes(plan, device, raw, deviceFromServer, shard);
    }

    private static ServerShard.Forward forward(JobPlan plan, long seq, ActorRef<ServerShard.Reply> replyTo) {
        return Microbatches.gaussian(plan.job().model().config().hiddenSize(), 0, 0, seq, 0f, replyTo);
    }

    /** What arrived at a device's edge, as Artery delivered it: a part is opened to what it carries. */
    private static Object arrived(ActorSystem<?> at, LinkedBlockingQueue<Object> raw) throws InterruptedException {
        Object m = raw.poll(60, TimeUnit.SECONDS);
        assertThat(m).as("something arrived at the device's node").isNotNull();
        if (m instanceof ChunkPart part) {
            assertThat(part.count()).isEqualTo(1);
            return SerializationExtension.get(Adapter.toClassic(at)).deserialize(part.bytes(), KryoSerializer.IDENTIFIER, "").get();
        }
        return m;
    }

    @ParameterizedTest(name = "simulated links {0}")
    @ValueSource(booleans = {false, true})
    void aCutGradientForADeviceOnAnotherNodeIsClaimedWhetherItLeavesAtOnceOrLater(boolean links) throws Exception {
        TwoNodes n = start("sfl", links);
        n.shard().tell(forward(n.plan(), 10, n.deviceFromServer()));
        ServerShard.CutGradient trained = claimed(n.device(), n.raw(), "the gradient of the step, sent from the tensor thread");
        n.shard().tell(forward(n.plan(), 10, n.deviceFromServer())); // resent: the device saw no answer in time
        ServerShard.CutGradient again = claimed(n.device(), n.raw(), "the gradient answered again from the shard's actor");
        assertThat(again.gradient().bytes()).as("the same gradient, not a second step's").isEqualTo(trained.gradient().bytes());
    }

    private ServerShard.CutGradient claimed(ActorSystem<?> device, LinkedBlockingQueue<Object> raw, String which) throws Exception {
        Object first = arrived(device, raw);
        assertThat(first).as(which + ": crossed as a claim, not as itself").isInstanceOf(Claim.class);
        Object pulled = SideChannel.get(device).fetch((Claim) first).get(60, TimeUnit.SECONDS);
        assertThat(pulled).isInstanceOf(ServerShard.CutGradient.class);
        ServerShard.CutGradient g = (ServerShard.CutGradient) pulled;
        assertThat(g.seq()).isEqualTo(10);
        return g;
    }

    @ParameterizedTest(name = "simulated links {0}")
    @ValueSource(booleans = {false, true})
    void aCreditHasNoTensorsAndGoesPlain(boolean links) throws Exception {
        TwoNodes n = start("splitfrozen", links);
        n.shard().tell(forward(n.plan(), 11, n.deviceFromServer()));
        Object first = n.raw().poll(60, TimeUnit.SECONDS);
        assertThat(first).as("a credit carries no tensor: as itself, neither claimed nor in parts").isInstanceOf(ServerShard.Credit.class);
        assertThat(((ServerShard.Credit) first).seq()).isEqualTo(11);
    }
}
