package io.splitfed.actors.wire;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;

import java.io.ByteArrayOutputStream;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Puts chunked messages back together, one per receiving actor (see {@link Inbound}). Parts of one transfer arrive in
 * order (one sender, one association). The receiving actor handles a whole message the moment its
 * last part arrives, in that part's place, so chunking keeps Pekko's per-sender order. A transfer
 * left incomplete (a part dropped by a full queue) is evicted once {@link #MAX_OPEN} newer ones
 * are open, and its sender resends.
 */
public final class Reassembler {

    static final int MAX_OPEN = 64;
    /** No message is this large; a transfer that claims to be is dropped. */
    static final long MAX_MESSAGE_BYTES = 1L << 30;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Reassembler.class);

    private final ActorSystem<?> system;
    private final Map<Long, Open> open = new LinkedHashMap<>();

    private static final class Open {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int next;
    }

    public Reassembler(ActorSystem<?> system) {
        this.system = system;
    }

    /** The whole message once {@code part} completes it; null before, or when a part went missing. */
    @SuppressWarnings("unchecked")
    public <T> T accept(ChunkPart part) {
        if (part.count() < 1 || part.index() < 0 || part.index() >= part.count() || part.bytes() == null) {
            LOG.warn("dropped a malformed frame part (transfer {}, part {} of {})", part.transferId(), part.index(), part.count());
            return null;
        }
        if (part.count() == 1) {
            return (T) decode(part.transferId(), part.bytes());
        }
        Open o = open.computeIfAbsent(part.transferId(), id -> new Open());
        if (part.index() != o.next) {
            open.remove(part.transferId()); // a part went missing: the sender's resend starts a new transfer
            return null;
        }
        if ((long) o.bytes.size() + part.bytes().length > MAX_MESSAGE_BYTES) {
            open.remove(part.transferId());
            LOG.warn("dropped transfer {}: more than {} bytes", part.transferId(), MAX_MESSAGE_BYTES);
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
        return (T) decode(part.transferId(), o.bytes.toByteArray());
    }

    /** The message, or null (logged with the reason) when the bytes are not one: garbage, truncated, or from another version. */
    private Object decode(long transferId, byte[] bytes) {
        try {
            return SerializationExtension.get(Adapter.toClassic(system)).deserialize(bytes, KryoSerializer.IDENTIFIER, "").get();
        } catch (RuntimeException | LinkageError e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            LOG.warn("dropped a malformed frame (transfer {}, {} bytes): {}", transferId, bytes.length, root.toString());
            return null;
        }
    }
}
