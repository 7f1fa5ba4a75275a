package io.splitfed.actors.link;

import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.lora.LoraAdapter;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * How what crosses a device's link leaves: the micro-batches up to its shard, the shard's answers
 * down to it, and its round's adapter update. A plain job sends them straight through the
 * {@link Outbox} ({@link #direct}); a job that simulates links or injects faults installs
 * {@link SimulatedLinks}, the decorator that delays, loses and poisons them. Devices and shards
 * never read a link's rate or a fault themselves.
 */
public interface Links {

    /** Sends {@code message} ({@code bytes} on the wire) up {@code device}'s link; returns when it reaches the far end, on {@link System#nanoTime}'s scale. */
    <T> long up(int device, ActorRef<T> to, T message, long bytes);

    /** Sends {@code message} ({@code bytes} on the wire) down {@code device}'s link. */
    <T> void down(int device, ActorRef<T> to, T message, long bytes);

    /** {@code device}'s round update as it leaves the device (a Byzantine device's is scaled); null stays null. */
    LoraAdapter outgoing(int device, LoraAdapter update);

    /** Whether this decorates the Outbox (false: messages go straight through it). */
    boolean simulated();

    /** No simulation: every message goes through {@code outbox} at once, as it is. */
    static Links direct(Outbox outbox) {
        return new Links() {
            @Override
            public <T> long up(int device, ActorRef<T> to, T message, long bytes) {
                outbox.send(to, message);
                return System.nanoTime();
            }

            @Override
            public <T> void down(int device, ActorRef<T> to, T message, long bytes) {
                outbox.send(to, message);
            }

            @Override
            public LoraAdapter outgoing(int device, LoraAdapter update) {
                return update;
            }

            @Override
            public boolean simulated() {
                return false;
            }
        };
    }
}
