package io.splitfed.actors.wire;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How {@link Outbox} sends a bulk message between nodes. In a cluster, a tensor message of at least
 * {@code splitfed.wire.side-channel.min-bytes} is held by the {@link SideChannel}, and its
 * {@link Claim} goes in its place, as one part. With the side channel off, a tensor message whose
 * recipient is on Artery's large-message stream ({@link BulkLane}) and that fits its frame goes
 * whole; any other message goes as {@link ChunkPart}s of at most {@code splitfed.wire.chunk-bytes}
 * (one part when it fits), which the recipient's {@link Inbound} edge puts back together. In a
 * single-JVM ActorSystem every message is a plain {@code tell}. A reference in this JVM is chunked
 * too: it may be a proxy (a shard route, a cluster singleton's) that forwards to another node. No
 * protocol mentions parts.
 */
public final class Wire {

    private Wire() {}

    /**
     * The parts to send instead of {@code message} to the actor at {@code recipientPath} (without
     * its address), or null where it goes whole: in a single-JVM system, or on the large-message
     * stream. A tensor message the side channel carries is held there, and its claim is the part.
     * A message that fits one part still goes as one: it is serialized here once, and Artery then
     * only copies the bytes, instead of serializing it a second time.
     */
    public static List<ChunkPart> split(ActorSystem<?> system, String recipientPath, Object message) {
        int chunk = chunkBytes(system);
        if (chunk <= 0 || !(message instanceof WireMessage w)) {
            return null;
        }
        SideChannel side = SideChannel.get(system);
        if (side.carries(message)) {
            return split(system, recipientPath, side.hold(w));
        }
        if (BulkLane.get(system).carries(recipientPath, message)) {
            return null;
        }
        Serialization serialization = SerializationExtension.get(Adapter.toClassic(system));
        byte[] bytes = serialization.serialize(message).get();
        long id = ThreadLocalRandom.current().nextLong();
        int count = Math.max(1, (bytes.length + chunk - 1) / chunk);
        List<ChunkPart> parts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            parts.add(new ChunkPart(id, i, count, count == 1 ? bytes : Arrays.copyOfRange(bytes, i * chunk, Math.min(bytes.length, (i + 1) * chunk))));
        }
        return parts;
    }

    /** The part size for this system: 0 (no chunking) unless it is a cluster or remote system. */
    static int chunkBytes(ActorSystem<?> system) {
        var settings = system.settings().config();
        return remote(settings) ? (int) settings.getBytes("splitfed.wire.chunk-bytes").longValue() : 0;
    }

    /** Whether a system with these settings talks to other nodes: a cluster or remote provider. */
    static boolean remote(com.typesafe.config.Config settings) {
        String provider = settings.getString("pekko.actor.provider");
        return !(provider.equals("local") || provider.endsWith("LocalActorRefProvider"));
    }
}
