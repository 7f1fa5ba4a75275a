package io.splitfed.actors.wire;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Function;

/**
 * The receiving edge of an actor, in front of its behavior:
 * <ul>
 *   <li>the {@link ChunkPart}s that {@link Wire} split a large message into are put back together,
 *       and the whole message is handled the moment its last part arrives, in that part's place, so
 *       chunking keeps Pekko's per-sender order;
 *   <li>replies declared in another actor's protocol are adapted into this actor's own messages.
 * </ul>
 * A {@link Claim} takes its place in line while the {@link SideChannel} pulls its message: what
 * arrives after it waits behind it, so the actor sees messages in the order they arrived.
 * So no protocol mentions parts or claims, and each reply belongs to the protocol of the actor that sends it.
 * A requester declares one {@link Adapter} per reply type it takes, builds its behavior with them,
 * and hands out {@link Adapter#replyTo}: its own reference typed as the replier's reply type, which
 * only an adapter into the requester's own protocol can give. Pekko's {@code messageAdapter}
 * references would do the second job but not the first: a chunk sent to one is dropped as a class
 * it cannot adapt. The reassembly state sits outside any supervisor of the behavior, so a restart
 * loses no transfer in progress.
 */
public final class Inbound {

    private Inbound() {}

    /** How replies of type {@code type} become the receiving actor's message. */
    public record Adapter<R, T>(Class<R> type, Function<R, T> wrap) {

        T apply(Object reply) {
            return wrap.apply(type.cast(reply));
        }

        /**
         * {@code self}, an actor of protocol {@code T} whose behavior was made with {@link #receiving}
         * and this adapter, as a reference for replies of type {@code R}: they arrive adapted into
         * {@code T}. The only place a reference changes its message type.
         */
        @SuppressWarnings("unchecked")
        public ActorRef<R> replyTo(ActorRef<T> self) {
            return (ActorRef<R>) (ActorRef<?>) self;
        }
    }

    public static <R, T> Adapter<R, T> adapt(Class<R> type, Function<R, T> wrap) {
        return new Adapter<>(type, wrap);
    }

    /** {@code behavior}, taking whole messages, the parts of large ones, and the replies {@code adapters} name. */
    @SafeVarargs
    @SuppressWarnings("unchecked")
    public static <T> Behavior<T> receiving(Behavior<T> behavior, Adapter<?, T>... adapters) {
        List<Adapter<?, T>> list = List.of(adapters);
        Behavior<Object> wrapped = Behaviors.intercept(() -> new Interceptor<>(list), (Behavior<Object>) (Behavior<?>) behavior);
        return (Behavior<T>) (Behavior<?>) wrapped;
    }

    /** A message pulled by the side channel, for the slot its claim took (null when it was lost). Never leaves the JVM. */
    private record Pulled(Slot slot, Object message) implements org.apache.pekko.actor.NoSerializationVerificationNeeded {}

    /** Hands on the next message in line, when it is ready. Never leaves the JVM. */
    private enum Next implements org.apache.pekko.actor.NoSerializationVerificationNeeded { READY }

    /** A place in line: a message that arrived, or one a claim is still pulling. */
    private static final class Slot {
        Object message;
        boolean ready;
    }

    private static final class Interceptor<T> extends BehaviorInterceptor<Object, Object> {

        private final List<Adapter<?, T>> adapters;
        private final ArrayDeque<Slot> line = new ArrayDeque<>();
        private Reassembler reassembler;

        Interceptor(List<Adapter<?, T>> adapters) {
            super(Object.class);
            this.adapters = adapters;
        }

        @Override
        public Behavior<Object> aroundReceive(TypedActorContext<Object> ctx, Object msg, ReceiveTarget<Object> target) {
            if (msg instanceof Pulled p) {
                p.slot().message = p.message();
                p.slot().ready = true;
                return next(ctx, target);
            }
            if (msg == Next.READY) {
                return next(ctx, target);
            }
            Object whole = msg;
            if (msg instanceof ChunkPart part) {
                if (reassembler == null) {
                    reassembler = new Reassembler(ctx.asJava().getSystem());
                }
                whole = reassembler.accept(part);
                if (whole == null) {
                    return Behaviors.same();
                }
            }
            if (whole instanceof Claim claim) {
                Slot slot = new Slot();
                line.add(slot);
                ActorRef<Object> self = ctx.asJava().getSelf();
                SideChannel.get(ctx.asJava().getSystem()).fetch(claim).thenAccept(m -> self.tell(new Pulled(slot, m)));
                return Behaviors.same();
            }
            if (line.isEmpty()) {
                return deliver(ctx, whole, target);
            }
            Slot slot = new Slot();
            slot.message = whole;
            slot.ready = true;
            line.add(slot);
            return next(ctx, target);
        }

        /** The first message in line, when it is ready; the one after it is asked for with {@link Next}. */
        private Behavior<Object> next(TypedActorContext<Object> ctx, ReceiveTarget<Object> target) {
            while (!line.isEmpty() && line.peek().ready && line.peek().message == null) {
                line.poll(); // a pull that failed: logged, and its device resends
            }
            if (line.isEmpty() || !line.peek().ready) {
                return Behaviors.same();
            }
            Object message = line.poll().message;
            if (!line.isEmpty() && line.peek().ready) {
                ctx.asJava().getSelf().tell(Next.READY);
            }
            return deliver(ctx, message, target);
        }

        private Behavior<Object> deliver(TypedActorContext<Object> ctx, Object whole, ReceiveTarget<Object> target) {
            for (Adapter<?, T> a : adapters) {
                if (a.type().isInstance(whole)) {
                    return target.apply(ctx, a.apply(whole));
                }
            }
            return target.apply(ctx, whole);
        }
    }
}
