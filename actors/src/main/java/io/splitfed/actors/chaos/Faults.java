package io.splitfed.actors.chaos;

import io.splitfed.actors.link.DeviceConditions;

import io.splitfed.actors.wire.Outbox;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.function.UnaryOperator;

/**
 * Makes an actor take {@link Fault}s: a wrapper put around its behavior inside its supervisor, so
 * that a {@link Fault.Crash} is handled as the actor's own failure would be. Device faults change
 * the device's {@link DeviceConditions}; a fault an actor cannot take is logged and dropped.
 */
public final class Faults {

    private Faults() {}

    /** For a device: slowdowns, link faults and poison change {@code conditions}; crashes throw. */
    public static <T> UnaryOperator<Behavior<T>> device(DeviceConditions conditions) {
        return b -> intercept(b, conditions);
    }

    /** For a server shard: crashes throw. */
    public static <T> UnaryOperator<Behavior<T>> shard() {
        return b -> intercept(b, null);
    }

    /** Sends {@code fault} to {@code actor}, made with {@link #device} or {@link #shard}. */
    public static void inject(Outbox outbox, ActorRef<?> actor, Fault fault) {
        outbox.forge(actor, fault);
    }

    @SuppressWarnings("unchecked")
    private static <T> Behavior<T> intercept(Behavior<T> behavior, DeviceConditions conditions) {
        Behavior<Object> wrapped = Behaviors.intercept(() -> new Interceptor(conditions), (Behavior<Object>) (Behavior<?>) behavior);
        return (Behavior<T>) (Behavior<?>) wrapped;
    }

    private static final class Interceptor extends BehaviorInterceptor<Object, Object> {

        private final DeviceConditions conditions;

        Interceptor(DeviceConditions conditions) {
            super(Object.class);
            this.conditions = conditions;
        }

        @Override
        public Behavior<Object> aroundReceive(TypedActorContext<Object> ctx, Object msg, ReceiveTarget<Object> target) {
            if (!(msg instanceof Fault fault)) {
                return target.apply(ctx, msg);
            }
            if (fault instanceof Fault.Crash c) {
                throw new IllegalStateException("injected fault: " + c.reason());
            }
            if (conditions == null) {
                ctx.asJava().getLog().warn("fault {} dropped: {} takes crashes only", fault, ctx.asJava().getSelf().path().name());
            } else if (fault instanceof Fault.SlowDown s) {
                conditions.slowDown(s.factor());
            } else if (fault instanceof Fault.LinkFault l) {
                conditions.linkFault(l.extraLatencyMillis(), l.cutMillis(), System.nanoTime());
            } else if (fault instanceof Fault.Poison p) {
                conditions.poison(p.scale());
            }
            return Behaviors.same();
        }
    }
}
