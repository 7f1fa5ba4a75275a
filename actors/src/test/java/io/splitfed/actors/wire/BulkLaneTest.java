package io.splitfed.actors.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.server.ServerShard;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * With the side channel off, micro-batches go whole on Artery's large-message stream to the
 * recipients the large-message destinations name, and in parts to any other; two ActorSystems on
 * loopback.
 */
@Tag("cluster")
class BulkLaneTest {

    private static Config node() {
        return ConfigFactory.parseString("pekko.actor.provider = cluster\npekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                + "pekko.remote.artery.canonical.port = 0\npekko.loglevel = ERROR\n"
                + "pekko.remote.artery.large-message-destinations = [\"/user/splitfed/*\"]\nsplitfed.wire.side-channel.enabled = off\n")
                .withFallback(ConfigFactory.load());
    }

    @Test
    void recipientsMatchTheLargeMessageDestinationsSegmentBySegment() {
        BulkLane lane = BulkLane.of(ConfigFactory.parseString("pekko.remote.artery.large-message-destinations = [\"/system/sharding/workers\", \"/user/splitfed/*\"]\n"
                + "pekko.remote.artery.advanced.maximum-large-frame-size = 4MiB"));
        ServerShard.Forward f = Microbatches.forward(7, 100_000);
        assertThat(lane.carries("/user/splitfed/device-3", f)).isTrue();
        assertThat(lane.carries("/system/sharding/workers", f)).isTrue();
        assertThat(lane.carries("/user/elsewhere/device-3", f)).as("another parent").isFalse();
        assertThat(lane.carries("/user/splitfed/device-3/child", f)).as("a grandchild").isFalse();
        assertThat(lane.carries("/system/sharding/workers/0/0", f)).as("an entity below the region").isFalse();
        assertThat(lane.carries("/user/splitfed/device-3", new ServerShard.RoundStarted(1))).as("a message with no tensors").isFalse();
        assertThat(lane.carries("/user/splitfed/device-3", Microbatches.forward(7, 1_000_000))).as("4 MB: larger than a frame less its headroom").isFalse();
    }

    @Test
    void aMicroBatchLargerThanAnOrdinaryFrameGoesWholeToARecipientOnTheLargeMessageStream() throws Exception {
        LinkedBlockingQueue<ServerShard.Forward> onLane = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<ServerShard.Forward> offLane = new LinkedBlockingQueue<>();
        CompletableFuture<ActorRef<ServerShard.Command>> on = new CompletableFuture<>();
        CompletableFuture<ActorRef<ServerShard.Command>> off = new CompletableFuture<>();
        ActorSystem<Void> sender = ActorSystem.create(Behaviors.empty(), "splitfed", node());
        ActorSystem<Void> receiver = ActorSystem.create(Behaviors.setup(ctx -> {
            ctx.spawn(parent(on, onLane), "splitfed");
            ctx.spawn(parent(off, offLane), "elsewhere");
            return Behaviors.empty();
        }), "splitfed", node());
        try {
            ActorRef<ServerShard.Command> toOn = remote(sender, receiver, on.get(10, TimeUnit.SECONDS));
            ActorRef<ServerShard.Command> toOff = remote(sender, receiver, off.get(10, TimeUnit.SECONDS));
            ServerShard.Forward f = Microbatches.forward(7, 500_000); // 2 MB, eight ordinary frames

            assertThat(Wire.split(sender, toOn.path().toStringWithoutAddress(), f)).as("parts for a recipient on the stream").isNull();
            List<ChunkPart> parts = Wire.split(sender, toOff.path().toStringWithoutAddress(), f);
            assertThat(parts).as("parts for a recipient off it").hasSizeGreaterThan(8);

            Outbox.get(sender).send(toOn, f);
            ServerShard.Forward got = onLane.poll(20, TimeUnit.SECONDS);
            assertThat(got).as("the micro-batch, whole, on the stream").isNotNull();
            assertThat(Arrays.equals(got.activations().bytes(), f.activations().bytes())).as("its activations, byte for byte").isTrue();
            assertThat(got.seq()).isEqualTo(7L);

            Outbox.get(sender).send(toOff, f);
            assertThat(offLane.poll(20, TimeUnit.SECONDS)).as("the micro-batch, in parts, off the stream").isNotNull();
            // what the parts are for: whole, it does not fit an ordinary frame, and Artery drops it
            toOff.tell(f);
            Outbox.get(sender).send(toOff, Microbatches.forward(8, 1_000)); // after it, on the same ordered stream
            ServerShard.Forward next = offLane.poll(20, TimeUnit.SECONDS);
            assertThat(next).as("the small micro-batch sent after it").isNotNull();
            assertThat(next.seq()).as("a whole 2 MB message off the stream never arrived before it").isEqualTo(8L);
        } finally {
            sender.terminate();
            receiver.terminate();
            sender.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            receiver.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static ActorRef<ServerShard.Command> remote(ActorSystem<?> from, ActorSystem<?> at, ActorRef<ServerShard.Command> local) {
        return ActorRefResolver.get(from).resolveActorRef(local.path().toStringWithAddress(at.address()));
    }

    /** An actor whose child {@code device-0} hands what it gets to {@code got}. */
    private static Behavior<Void> parent(CompletableFuture<ActorRef<ServerShard.Command>> ref, LinkedBlockingQueue<ServerShard.Forward> got) {
        Behavior<ServerShard.Command> sink = Inbound.receiving(Behaviors.receiveMessage(m -> {
            if (m instanceof ServerShard.Forward f) {
                got.add(f);
            }
            return Behaviors.same();
        }));
        return Behaviors.setup(ctx -> {
            ref.complete(ctx.spawn(sink, "device-0"));
            return Behaviors.empty();
        });
    }
}
