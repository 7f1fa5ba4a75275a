package io.splitfed.actors.server;

import io.splitfed.actors.server.ServerShard.Forward;

import java.util.ArrayList;
import java.util.List;

/**
 * A shard's queue and its rules, with no actor in it: what becomes of an arriving micro-batch
 * (refused, held for its round, answered again, queued), which rows the next step trains, and what
 * a closing round drops. {@link LoraWorker} asks it and carries out the answer: the messages, the
 * tensor work, the timeline. Tested on its own ({@code ShardQueueTest}), with no ActorSystem.
 */
final class ShardQueue {

    /** What becomes of an arriving micro-batch. */
    sealed interface Admission {

        /** Refused with {@code reason}; a strike against its device when it was malformed rather than late. */
        record Refused(String reason, boolean strike) implements Admission {}

        /**
         * Held until the next round opens: its round has not started here yet ({@code early}), or it
         * is a late device's work in an asynchronous job while the round closes.
         */
        record Held(boolean early) implements Admission {}

        /** Seen before (trained, or still queued): answered again, never trained twice. */
        record SeenBefore() implements Admission {}

        /** Queued for a step. */
        record Queued() implements Admission {}
    }

    /**
     * @param asynchronous late devices' work is trained in the next round instead of refused
     * @param whole each step trains one micro-batch whole (SFL: its cut gradient goes back to its device alone)
     * @param mixDevices at most this many devices' rows in one step (SplitFrozen)
     * @param microBatch rows in a mixed step
     * @param hidden the cut's hidden size
     */
    record Rules(boolean asynchronous, boolean whole, int mixDevices, int microBatch, int hidden) {}

    private static final Admission SEEN = new Admission.SeenBefore();
    private static final Admission QUEUED = new Admission.Queued();

    private final Rules rules;
    private final List<QueuedMicroBatch> queued = new ArrayList<>();
    private final List<Forward> held = new ArrayList<>();
    private long arrivals;

    ShardQueue(Rules rules) {
        this.rules = rules;
    }

    /**
     * Admits {@code f} to a shard in {@code round} ({@code accepting} while it is open).
     *
     * @param problem why {@code f} is malformed ({@link ForwardCheck}), or null
     * @param trainedBefore whether {@code f}'s device already had this micro-batch trained here
     */
    Admission admit(Forward f, int round, boolean accepting, String problem, boolean trainedBefore) {
        if (problem != null) {
            return new Admission.Refused(problem, true);
        }
        if (f.round() > round) {
            held.add(f); // the RoundStarted for it is still on its way
            return new Admission.Held(true);
        }
        if (trainedBefore || find(f.device(), f.seq()) != null) {
            return SEEN;
        }
        if (f.round() < round || !accepting) {
            if (!rules.asynchronous()) {
                return new Admission.Refused("round " + f.round() + " is closed", false);
            }
            if (!accepting) {
                held.add(f); // a late device's work: trained once the next round opens
                return new Admission.Held(false);
            }
            // a late device's work, trained in this round (in SplitFrozen, frozen device blocks never make it stale)
        }
        queued.add(new QueuedMicroBatch(f, arrivals++));
        return QUEUED;
    }

    /** What was held for the round that opens now, in arrival order, to be admitted again. */
    List<Forward> releaseHeld() {
        List<Forward> out = List.copyOf(held);
        held.clear();
        return out;
    }

    /**
     * The rows of the next step, reserved, or null when nothing is queued. The step serves the
     * device furthest behind in its round first (ties by arrival): devices with smaller shards would
     * otherwise finish early and leave the end of each round to the others, which under label skew
     * means training on one label for a while. In SplitFrozen it takes rows from up to
     * {@code mixDevices} devices' micro-batches cut at the same point.
     */
    MixedBatch next(MixedBatch.Progress progress) {
        QueuedMicroBatch anchor = null;
        for (QueuedMicroBatch q : queued) {
            if (q.remaining() > 0 && (anchor == null || progress.after(q, 0) < progress.after(anchor, 0))) {
                anchor = q;
            }
        }
        if (anchor == null) {
            return null;
        }
        List<QueuedMicroBatch> pool = new ArrayList<>();
        for (QueuedMicroBatch q : queued) {
            if (q.remaining() > 0 && q.forward.splitPoint() == anchor.forward.splitPoint()) {
                pool.add(q);
            }
        }
        if (rules.whole() || rules.mixDevices() == 1 || (anchor.untouched() && pool.size() == 1)) {
            return MixedBatch.whole(anchor);
        }
        return MixedBatch.take(pool, rules.microBatch(), rules.mixDevices(), rules.hidden(), progress);
    }

    /** The queued micro-batch {@code seq} of {@code device}, or null. */
    QueuedMicroBatch find(int device, long seq) {
        for (QueuedMicroBatch q : queued) {
            if (q.forward.device() == device && q.forward.seq() == seq) {
                return q;
            }
        }
        return null;
    }

    /** Takes {@code q} off the queue: all its rows are trained, or its step failed. */
    void remove(QueuedMicroBatch q) {
        queued.remove(q);
    }

    /**
     * What a closing round leaves: in a synchronous job the queue is dropped, and each dropped
     * micro-batch is returned with its rows left untrained; an asynchronous job keeps late devices'
     * work for the next round and drops nothing.
     */
    List<String> close() {
        if (rules.asynchronous()) {
            return List.of();
        }
        List<String> dropped = new ArrayList<>();
        for (QueuedMicroBatch q : queued) {
            dropped.add("device " + q.forward.device() + " micro-batch " + q.forward.seq() + " dropped: round " + q.forward.round()
                    + " closed with " + q.remaining() + " of its rows untrained");
        }
        queued.clear();
        return dropped;
    }

    int size() {
        return queued.size();
    }

    boolean isEmpty() {
        return queued.isEmpty();
    }

    /** The queued micro-batches as they arrived, for a snapshot. */
    List<Forward> forwards() {
        return queued.stream().map(q -> q.forward).toList();
    }

    /** Which rows of each queued micro-batch are trained, for a snapshot. */
    List<boolean[]> trainedRows() {
        return queued.stream().map(QueuedMicroBatch::trainedRows).toList();
    }

    /** What is held for the next round, for a snapshot. */
    List<Forward> held() {
        return List.copyOf(held);
    }

    /** Back to a snapshot's queue (appended to what is here, as a restore after a hand-off does). */
    void restore(List<Forward> forwards, List<boolean[]> rows, List<Forward> waiting) {
        for (int i = 0; i < forwards.size(); i++) {
            QueuedMicroBatch q = new QueuedMicroBatch(forwards.get(i), arrivals++);
            q.markTrained(rows.get(i));
            queued.add(q);
        }
        held.addAll(waiting);
    }

    /** Drops everything queued and held (a reset to a checkpoint). */
    void clear() {
        queued.clear();
        held.clear();
    }
}
