package io.splitfed.actors.wire;

import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * The one place splitfed's actors send from. Every message of every behaviour leaves through
 * {@link #send} (or {@link #sendLater}), and the way it goes is decided here, by the message's
 * type and the recipient, never by the call site:
 * <ul>
 *   <li>in a single-JVM system, and for any message that is not {@link Bulk}, a plain {@code tell};
 *   <li>a {@link Bulk} message in a cluster: held by the {@link SideChannel} with its {@link Claim}
 *       sent in its place (activations and cut gradients of at least
 *       {@code splitfed.wire.side-channel.min-bytes}), else whole on Artery's large-message stream
 *       where its recipient is on it, else in {@link ChunkPart}s that the recipient's
 *       {@link Inbound} edge puts back together. A recipient in this JVM is treated alike: it may
 *       be a proxy (a shard route, a singleton's) that forwards to another node.
 * </ul>
 * An architecture test ({@code OneSenderTest}) keeps every other class off {@code ActorRef.tell}
 * and {@code ActorContext.scheduleOnce}. One per ActorSystem (an extension); thread-safe, so a
 * tensor thread's callback sends through it too.
 */
public final class Outbox implements Extension {

    /**
     * Marks the messages that carry tensors or adapters: may outgrow one Artery frame, and go the
     * bulk way between nodes.
     */
    public interface Bulk extends WireMessage {}

    private static final ExtensionId<Outbox> ID = new ExtensionId<>() {
        @Override
        public Outbox createExtension(ActorSystem<?> system) {
            return new Outbox(system);
        }
    };

    private final ActorSystem<?> system;
    private final boolean cluster;

    private Outbox(ActorSystem<?> system) {
        this.system = system;
        this.cluster = Wire.chunkBytes(system) > 0;
    }

    public static Outbox get(ActorSystem<?> system) {
        return ID.apply(system);
    }

    /** Sends {@code message} to {@code to}, the way its type and the recipient call for. */
    public <T> void send(ActorRef<T> to, T message) {
        List<ChunkPart> parts = bulk(message) ? Wire.split(system, to.path().toStringWithoutAddress(), message) : null;
        if (parts == null) {
            to.tell(message);
        } else {
            ActorRef<Object> raw = to.unsafeUpcast(); // the recipient's Inbound edge takes parts
            parts.forEach(raw::tell);
        }
    }

    /** {@link #send} after {@code delay}, on the system's scheduler: the same way as now. */
    public <T> Cancellable sendLater(Duration delay, ActorRef<T> to, T message) {
        return system.scheduler().scheduleOnce(delay, () -> send(to, message), system.executionContext());
    }

    /**
     * Sends {@code message} through a classic forwarder (a shard region) that takes each part in an
     * envelope: whole where it goes whole, else each of its parts, in order.
     */
    public void sendThrough(org.apache.pekko.actor.ActorRef via, String recipientPath, Object message, Function<Object, Object> envelope) {
        List<ChunkPart> parts = bulk(message) ? Wire.split(system, recipientPath, message) : null; // parts a sender cut go on as they are
        if (parts == null) {
            via.tell(envelope.apply(message), org.apache.pekko.actor.ActorRef.noSender());
        } else {
            parts.forEach(p -> via.tell(envelope.apply(p), org.apache.pekko.actor.ActorRef.noSender()));
        }
    }

    /**
     * Sends {@code raw} as it is, bypassing the choice above: only for fault injection, which
     * forges what arrives at an actor's edge (parts of junk, half a message).
     */
    public void forge(ActorRef<?> to, Object raw) {
        to.<Object>unsafeUpcast().tell(raw);
    }

    private boolean bulk(Object message) {
        return cluster && message instanceof Bulk;
    }
}
