package io.splitfed.actors.job;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.function.Consumer;

/**
 * An actor that hands each message to a callback: how code outside the actor system (a CLI, a
 * test, a host application) receives a job's result, events or a node's status.
 */
public final class Callbacks {

    private Callbacks() {}

    /** Calls {@code sink} with every message, on the actor's thread. */
    public static <T> Behavior<T> to(Consumer<? super T> sink) {
        return Behaviors.receive((ctx, m) -> {
            sink.accept(m);
            return Behaviors.same();
        });
    }
}
