package io.splitfed.actors.wire;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;

import java.io.ByteArrayOutputStream;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Puts chunked messages back together, one per receiving actor. Parts of one transfer arrive in
 * order (one sender, one association); a transfer left incomplete (a part dropped by a full
 * queue) is evicted once {@link #MAX_OPEN} newer ones are open, and its sender resends.
 */
public final class Reassembler {

    static final int MAX_OPEN = 64;

    private final ActorSystem<?> system;
    private final Map<Long, Open> open = new LinkedHashMap<>();

    private static final class Open {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int next;
    }

    public Reassembler(ActorSystem<?> system) {
        this.system = system;
    }

    /** Takes {@code part}; once it completes its message, tells the whole message to {@code to} (the receiving actor itself). */
    public <T> void forward(ChunkPart part, org.apache.pekko.actor.typed.ActorRef<T> to) {
        T whole = accept(part);
        if (whole != null) {
            to.tell(whole);
        }
    }

    /** The whole message once {@code part} completes it; null before, or when a part went missing. */
    @SuppressWarnings("unchecked")
    public <T> T accept(ChunkPart part) {
        if (part.count() == 1) {
            return (T) decode(part.bytes());
        }
        Open o = open.computeIfAbsent(part.transferId(), id -> new Open());
        if (part.index() != o.next) {
            open.remove(part.transferId()); // a part went missing: the sender's resend starts a new transfer
            return null;
        }
        o.bytes.writeBytes(part.bytes());
        o.next++;
        if (o.next < part.count()) {
            while (open.size() > MAX_OPEN) {
                Iterator<Long> oldest = open.keySet().iterator();
                oldest.next();
                oldest.remove();
            }
            return null;
        }
        open.remove(part.transferId());
        return (T) decode(o.bytes.toByteArray());
    }

    private Object decode(byte[] bytes) {
        return SerializationExtension.get(Adapter.toClassic(system)).deserialize(bytes, KryoSerializer.IDENTIFIER, "").get();
    }
}
