package io.splitfed.actors.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.server.ServerShard;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Tensor messages between two ActorSystems on loopback go by the side channel: a claim crosses
 * Artery, the recipient pulls the message, and the actor sees everything in the order it was sent.
 * A claim whose message is gone (dropped after its hold, or held by a node that died) is dropped,
 * and what follows it still arrives.
 */
@Tag("cluster")
class SideChannelTest {

    private final LoopbackNodes nodes = new LoopbackNodes();

    private ActorSystem<Void> node(String extra) {
        return nodes.start("splitfed.wire.side-channel.min-bytes = 256KiB\n" + extra);
    }

    @AfterEach
    void stop() throws Exception {
        nodes.close();
    }

    /** An actor on {@code at} that hands what it gets to {@code got}, as {@code from} addresses it. */
    private static ActorRef<ServerShard.Command> sink(ActorSystem<?> from, ActorSystem<?> at, LinkedBlockingQueue<ServerShard.Command> got) {
        ActorRef<ServerShard.Command> local = at.systemActorOf(Inbound.receiving(Behaviors.<ServerShard.Command>receiveMessage(m -> {
            got.add(m);
            return Behaviors.same();
        })), "sink", org.apache.pekko.actor.typed.Props.empty());
        return ActorRefResolver.get(from).resolveActorRef(local.path().toStringWithAddress(at.address()));
    }

    private static Object decode(ActorSystem<?> s, ChunkPart part) {
        return SerializationExtension.get(Adapter.toClassic(s)).deserialize(part.bytes(), KryoSerializer.IDENTIFIER, "").get();
    }

    @Test
    void aMicroBatchCrossesAsAClaimAndArrivesWholeInTheOrderItWasSent() throws Exception {
        ActorSystem<Void> sender = node("");
        ActorSystem<Void> receiver = node("");
        LinkedBlockingQueue<ServerShard.Command> got = new LinkedBlockingQueue<>();
        ActorRef<ServerShard.Command> to = sink(sender, receiver, got);
        ServerShard.Forward first = Microbatches.forward(1, 500_000); // 2 MB
        ServerShard.Forward second = Microbatches.forward(2, 500_000);

        List<ChunkPart> parts = Wire.split(sender, to.path().toStringWithoutAddress(), first);
        assertThat(parts).as("one part: the claim").hasSize(1);
        assertThat(parts.get(0).bytes().length).as("the claim, not the 2 MB").isLessThan(200);
        Object claim = decode(sender, parts.get(0));
        assertThat(claim).isInstanceOf(Claim.class);
        assertThat(Wire.split(sender, to.path().toStringWithoutAddress(), Microbatches.forward(3, 1_000))).as("a 4 KB micro-batch goes on Artery")
                .hasSize(1).allSatisfy(p -> assertThat(decode(sender, p)).isInstanceOf(ServerShard.Forward.class));
        assertThat(SideChannel.get(sender).holding()).as("the claimed message, held").isEqualTo(1);

        Outbox.get(sender).send(to, first);
        Outbox.get(sender).send(to, new ServerShard.RoundStarted(5));
        Outbox.get(sender).send(to, second);
        Outbox.get(sender).send(to, new ServerShard.RoundStarted(6));
        List<ServerShard.Command> seen = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ServerShard.Command m = got.poll(20, TimeUnit.SECONDS);
            assertThat(m).as("message %d of 4", i + 1).isNotNull();
            seen.add(m);
        }
        assertThat(seen.get(0)).isInstanceOf(ServerShard.Forward.class);
        assertThat(((ServerShard.Forward) seen.get(0)).seq()).isEqualTo(1L);
        assertThat(Arrays.equals(((ServerShard.Forward) seen.get(0)).activations().bytes(), first.activations().bytes())).as("byte for byte").isTrue();
        assertThat(seen.get(1)).as("the small message sent after it waited for it").isEqualTo(new ServerShard.RoundStarted(5));
        assertThat(((ServerShard.Forward) seen.get(2)).seq()).isEqualTo(2L);
        assertThat(Arrays.equals(((ServerShard.Forward) seen.get(2)).activations().bytes(), second.activations().bytes())).isTrue();
        assertThat(seen.get(3)).isEqualTo(new ServerShard.RoundStarted(6));
        assertThat(SideChannel.get(sender).holding()).as("the pulled ones are gone; the split()-only claim waits for its hold").isEqualTo(1);
    }

    @Test
    void aClaimWhoseMessageIsGoneIsDroppedAndWhatFollowsStillArrives() throws Exception {
        ActorSystem<Void> sender = node("");
        ActorSystem<Void> receiver = node("");
        LinkedBlockingQueue<ServerShard.Command> got = new LinkedBlockingQueue<>();
        ActorRef<ServerShard.Command> to = sink(sender, receiver, got);
        ActorRef<Object> raw = to.unsafeUpcast();

        Claim real = SideChannel.get(sender).hold(Microbatches.forward(1, 100_000));
        raw.tell(new Claim(real.id() + 1, real.host(), real.port(), real.depot())); // never held there
        int dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = s.getLocalPort();
        }
        raw.tell(new Claim(7, "127.0.0.1", dead, 42)); // a node that is gone
        Outbox.get(sender).send(to, new ServerShard.RoundStarted(9));
        assertThat(got.poll(20, TimeUnit.SECONDS)).as("the message after the lost claims").isEqualTo(new ServerShard.RoundStarted(9));
        // the edge hands messages on in arrival order: with the message after them handed on, the lost claims' places are spent
        assertThat(got).as("nothing in the lost claims' place").isEmpty();
        raw.tell(real);
        ServerShard.Command pulled = got.poll(20, TimeUnit.SECONDS);
        assertThat(pulled).as("the real claim still pulls").isInstanceOf(ServerShard.Forward.class);
        raw.tell(real);
        Outbox.get(sender).send(to, new ServerShard.RoundStarted(10));
        assertThat(got.poll(20, TimeUnit.SECONDS)).as("a claim pulls once: a second pull gets nothing").isEqualTo(new ServerShard.RoundStarted(10));
    }

    @Test
    void aMessageNobodyPullsIsDroppedAfterItsHold() throws Exception {
        ActorSystem<Void> sender = node("splitfed.wire.side-channel.hold = 1s\n");
        SideChannel side = SideChannel.get(sender);
        side.hold(Microbatches.forward(1, 100_000));
        assertThat(side.holding()).isEqualTo(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (side.holding() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(side.holding()).as("dropped after 1 s").isZero();
    }

    @Test
    void anIdleConnectionIsClosedAndTheNextPullOpensAnother() throws Exception {
        ActorSystem<Void> sender = node("splitfed.wire.side-channel.hold = 1s\n");
        ActorSystem<Void> receiver = node("splitfed.wire.side-channel.hold = 1s\n");
        LinkedBlockingQueue<ServerShard.Command> got = new LinkedBlockingQueue<>();
        ActorRef<ServerShard.Command> to = sink(sender, receiver, got);
        Outbox.get(sender).send(to, Microbatches.forward(1, 100_000));
        assertThat(got.poll(20, TimeUnit.SECONDS)).isInstanceOf(ServerShard.Forward.class);
        assertThat(SideChannel.get(receiver).connections()).isEqualTo(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (SideChannel.get(receiver).connections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(SideChannel.get(receiver).connections()).as("closed after 1 s unused").isZero();
        Outbox.get(sender).send(to, Microbatches.forward(2, 100_000));
        ServerShard.Command again = got.poll(20, TimeUnit.SECONDS);
        assertThat(again).as("pulled over a new connection").isInstanceOf(ServerShard.Forward.class);
        assertThat(((ServerShard.Forward) again).seq()).isEqualTo(2L);
    }

    @Test
    void withTheSideChannelOffTensorsGoOnArtery() throws Exception {
        ActorSystem<Void> sender = node("splitfed.wire.side-channel.enabled = off\n");
        List<ChunkPart> parts = Wire.split(sender, "/user/somewhere", Microbatches.forward(1, 500_000));
        assertThat(parts).as("the 2 MB in 192 KiB parts").hasSizeGreaterThan(8);
    }
}
