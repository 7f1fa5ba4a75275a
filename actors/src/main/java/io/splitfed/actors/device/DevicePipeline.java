package io.splitfed.actors.device;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.train.SegmentLearner;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToLongFunction;

/**
 * A split device's micro-batches between issue and answer, and their rules, with no actor in it:
 * which are open (issued, not yet settled), which are on their way (sent, unanswered, resent after
 * the ack timeout), and, in SFL, which returned cut gradient may go back through the device's
 * blocks next. {@link SplitDevice} asks it and carries out the answer. Tested on its own
 * ({@code DevicePipelineTest}), with no ActorSystem.
 *
 * <p>SFL steps the device adapter in issue order: the cut gradient of micro-batch i is
 * back-propagated only once every micro-batch before it has stepped, one backward at a time. The
 * forward of micro-batch i + window therefore always sees the adapter after exactly i steps,
 * however the messages interleave, and a run is reproducible.
 */
final class DevicePipeline {

    /**
     * A micro-batch on its way, kept until answered so it can be sent again: when its last copy
     * reached the shard's end of the link, and how many copies were sent.
     */
    record Pending(ServerShard.Forward forward, long sentNanos, int sends, SegmentLearner.InFlight graph) {

        Pending sentAgain(long nanos) {
            return new Pending(forward, nanos, sends + 1, graph);
        }
    }

    /** SFL: a cut gradient that arrived, waiting for the micro-batches before it to step first. */
    record Arrived(Pending pending, ServerShard.CutGradient gradient) {}

    private final TreeMap<Long, Pending> pending = new TreeMap<>();
    private final TreeSet<Long> open = new TreeSet<>();
    private final TreeMap<Long, Arrived> arrived = new TreeMap<>();
    /** When an unanswered micro-batch is sent again; it learns from the answers. */
    private final ResendTimer resendTimer;
    /** The micro-batch whose backward is on the tensor thread; -1: none. */
    private long backwardSeq = -1;

    DevicePipeline(Duration ackTimeout) {
        this.resendTimer = new ResendTimer(ackTimeout);
    }

    /** Micro-batch {@code seq} is issued: open until it is settled. */
    void issued(long seq) {
        open.add(seq);
    }

    /** {@code seq} left for the shard; {@code arrivesNanos} is when it reaches the shard's end of the link. */
    void sent(long seq, ServerShard.Forward f, long arrivesNanos, SegmentLearner.InFlight graph) {
        pending.put(seq, new Pending(f, arrivesNanos, 1, graph));
    }

    /** {@code seq} goes again: {@code deliver} puts it on the link and says when it reaches the shard's end. */
    void resent(long seq, ToLongFunction<ServerShard.Forward> deliver) {
        Pending p = pending.get(seq);
        pending.put(seq, p.sentAgain(deliver.applyAsLong(p.forward())));
    }

    /**
     * The answer to {@code seq} came ({@code current}: in the device's current round). Returns its
     * pending entry, or null for an answer to a resend or to a round already over. An answer to a
     * micro-batch sent once teaches the resend timer how long answers take.
     */
    Pending answered(boolean current, long seq, long nowNanos) {
        Pending p = current ? pending.remove(seq) : null;
        if (p != null && p.sends() == 1) {
            resendTimer.answered(nowNanos - p.sentNanos());
        }
        return p;
    }

    /** The shard refused {@code seq}: its pending entry, or null (not this round's, or answered already). */
    Pending refused(boolean current, long seq) {
        return current ? pending.remove(seq) : null;
    }

    /** {@code seq} is settled: answered, refused or failed. */
    void settled(long seq) {
        open.remove(seq);
    }

    /** SFL: {@code seq}'s cut gradient is here. */
    void gradientArrived(Pending p, ServerShard.CutGradient g) {
        arrived.put(g.seq(), new Arrived(p, g));
    }

    /**
     * SFL: the gradient to back-propagate now, marked running, or null. It is the earliest open
     * micro-batch's, once it has arrived and no other backward runs.
     */
    Arrived nextBackward() {
        if (backwardSeq >= 0 || arrived.isEmpty() || open.isEmpty() || arrived.firstKey() != open.first().longValue()) {
            return null;
        }
        Arrived a = arrived.pollFirstEntry().getValue();
        backwardSeq = a.gradient().seq();
        return a;
    }

    /** The backward of {@code seq} ended, or its work failed. */
    void backwardEnded(long seq) {
        if (seq == backwardSeq) {
            backwardSeq = -1;
        }
    }

    /**
     * The micro-batches unanswered for longer than the resend timeout at {@code nowNanos}, in issue
     * order; the timeout backs off when any has expired.
     */
    List<Long> expired(long nowNanos) {
        long limit = resendTimer.timeoutNanos();
        List<Long> out = new ArrayList<>();
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            if (nowNanos - e.getValue().sentNanos() > limit) {
                out.add(e.getKey());
            }
        }
        if (!out.isEmpty()) {
            resendTimer.expired();
        }
        return out;
    }

    /** Every micro-batch sent and unanswered, in issue order (what a restarted device sends again). */
    List<Long> unanswered() {
        return new ArrayList<>(pending.keySet());
    }

    /** How many are on their way. */
    int inFlight() {
        return pending.size();
    }

    /** How many count against the window: computing here, on their way, or back and waiting to step. */
    int outstanding(int computing) {
        return computing + pending.size() + arrived.size();
    }

    /** Drops everything in flight (the round is over for this device, or runs again); returns the graphs to close. */
    List<SegmentLearner.InFlight> drop() {
        List<SegmentLearner.InFlight> graphs = new ArrayList<>();
        pending.values().forEach(p -> {
            if (p.graph() != null) {
                graphs.add(p.graph());
            }
        });
        arrived.values().forEach(a -> {
            if (a.pending().graph() != null) {
                graphs.add(a.pending().graph());
            }
        });
        pending.clear();
        arrived.clear();
        open.clear();
        return graphs;
    }
}
