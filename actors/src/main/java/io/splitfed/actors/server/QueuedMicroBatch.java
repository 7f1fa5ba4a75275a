package io.splitfed.actors.server;

import io.splitfed.model.tensor.WireCodec;

/**
 * A micro-batch waiting at the shard and which of its rows are taken. Rows may be trained in any
 * order, in steps shared with other devices' rows; the micro-batch is answered when its last row
 * is trained.
 */
final class QueuedMicroBatch {

    final ServerShard.Forward forward;
    final long arrival;
    private final boolean[] taken;
    private float[] values;
    private int trained;
    private int inFlight;

    QueuedMicroBatch(ServerShard.Forward forward, long arrival) {
        this.forward = forward;
        this.arrival = arrival;
        this.taken = new boolean[forward.batch().batch()];
    }

    int rows() {
        return taken.length;
    }

    int remaining() {
        return rows() - trained - inFlight;
    }

    boolean untouched() {
        return trained == 0 && inFlight == 0;
    }

    boolean isFree(int row) {
        return !taken[row];
    }

    int length(int row) {
        return forward.batch().lengths()[row];
    }

    void reserve(int row) {
        taken[row] = true;
        inFlight++;
    }

    void reserveAll() {
        for (int r = 0; r < taken.length; r++) {
            if (!taken[r]) {
                reserve(r);
            }
        }
    }

    /** A micro-batch reserved whole and none of it trained: free again, its step dropped (a U-shaped shard handed off mid-step). */
    void releaseAll() {
        if (trained != 0) {
            throw new IllegalStateException("micro-batch " + forward.seq() + " has " + trained + " rows trained already");
        }
        java.util.Arrays.fill(taken, false);
        inFlight = 0;
    }

    /** Which rows are trained (none may be in flight). */
    boolean[] trainedRows() {
        return taken.clone();
    }

    /** Marks rows trained by a previous incarnation of the shard. */
    void markTrained(boolean[] rows) {
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] && !taken[r]) {
                taken[r] = true;
                trained++;
            }
        }
    }

    /** {@code n} reserved rows were trained; true when none is left. */
    boolean trained(int n) {
        inFlight -= n;
        trained += n;
        return trained == rows();
    }

    /** The activations as fp32 (batch, T, hidden), decoded once. */
    float[] values() {
        if (values == null) {
            values = WireCodec.toFloats(forward.activations());
        }
        return values;
    }
}
