package io.splitfed.actors.link;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Items let out at their due times in the order they were added: one never overtakes another, as
 * two {@code scheduleOnce} calls may when the scheduler fires them in the same tick. The owning
 * actor keeps one timer for the head ({@link #nextDueNanos()}) and calls {@link #takeDue} when it
 * fires, on its own thread. Not thread-safe.
 */
public final class DelayLine<T> {

    private record Entry<T>(long dueNanos, T item) {}

    private final ArrayDeque<Entry<T>> entries = new ArrayDeque<>();
    private long lastDueNanos = Long.MIN_VALUE;

    /**
     * Adds {@code item}, due at {@code dueNanos} or, if later, when the item before it is. Returns
     * true when it became the head, so the owner must arm its timer.
     */
    public boolean add(long dueNanos, T item) {
        long due = entries.isEmpty() ? dueNanos : Math.max(dueNanos, lastDueNanos);
        lastDueNanos = due;
        entries.addLast(new Entry<>(due, item));
        return entries.size() == 1;
    }

    /** Hands {@code out}, in order, every item due by {@code nowNanos}. */
    public void takeDue(long nowNanos, Consumer<T> out) {
        while (!entries.isEmpty() && entries.peekFirst().dueNanos() <= nowNanos) {
            out.accept(entries.pollFirst().item());
        }
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** When the head is due; only when not empty. */
    public long nextDueNanos() {
        return entries.getFirst().dueNanos();
    }
}
