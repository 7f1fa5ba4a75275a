package io.splitfed.actors.wire;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

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
 * So no protocol mentions parts, and each reply belongs to the protocol of the actor that sends it.
 * A requester hands out {@link #replyTo(ActorRef)}, its own reference typed as the replier's reply
 * type. Pekko's {@code messageAdapter} references would do the second job but not the first: a
 * chunk sent to one is dropped as a class it cannot adapt. The reassembly state sits outside any
 * supervisor of the behavior, so a restart loses no transfer in progress.
 */
public final class Inbound {

    private Inbound() {}

    /** How replies of type {@code type} become the receiving actor's message. */
    public record Adapter<R, T>(Class<R> type, Function<R, T> wrap) {

        T apply(Object reply) {
            return wrap.apply(type.cast(reply));
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

    /**
     * {@code self} as a reference for replies of another actor's protocol: valid where the actor's
     * behavior was made with {@link #receiving} and an adapter for them.
     */
    @SuppressWarnings("unchecked")
    public static <R> ActorRef<R> replyTo(ActorRef<?> self) {
        return (ActorRef<R>) self;
    }

    private static final class Interceptor<T> extends BehaviorInterceptor<Object, Object> {

        private final List<Adapter<?, T>> adapters;
        private Reassembler reassembler;

        Interceptor(List<Adapter<?, T>> adapters) {
            super(Object.class);
            this.adapters = adapters;
        }

        @Override
        public Behavior<Object> aroundReceive(TypedActorContext<Object> ctx, Object msg, ReceiveTarget<Object> target) {
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
            for (Adapter<?, T> a : adapters) {
                if (a.type().isInstance(whole)) {
                    return target.apply(ctx, a.apply(whole));
                }
            }
            return target.apply(ctx, whole);
        }
    }
}
