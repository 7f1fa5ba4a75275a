package io.splitfed.actors.server;

import java.util.Arrays;
import java.util.BitSet;

/**
 * The sequence numbers of one device's micro-batches that a shard has trained: everything up to a
 * watermark, and a bit per number above it. Micro-batches train out of order (mixed steps, a lost
 * part resent later), so "at most the highest trained" would credit a resend that never trained.
 */
final class TrainedSeqs {

    private long watermark = -1;
    private BitSet above = new BitSet();

    boolean contains(long seq) {
        return seq <= watermark || (seq - watermark - 1 < Integer.MAX_VALUE && above.get((int) (seq - watermark - 1)));
    }

    void add(long seq) {
        if (seq <= watermark) {
            return;
        }
        long offset = seq - watermark - 1;
        if (offset >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sequence number " + seq + " is too far above " + watermark);
        }
        above.set((int) offset);
        int run = above.nextClearBit(0);
        if (run > 0) {
            watermark += run;
            above = above.get(run, Math.max(run, above.length()));
        }
    }

    /** Numbers up to {@code seq} will never come again (their round ended): count them as done. */
    void forgetUpTo(long seq) {
        while (watermark < seq) {
            add(watermark + 1);
        }
    }

    long[] toArray() {
        long[] bits = above.toLongArray();
        long[] out = Arrays.copyOf(new long[] {watermark}, bits.length + 1);
        System.arraycopy(bits, 0, out, 1, bits.length);
        return out;
    }

    static TrainedSeqs fromArray(long[] a) {
        TrainedSeqs t = new TrainedSeqs();
        t.watermark = a[0];
        t.above = BitSet.valueOf(Arrays.copyOfRange(a, 1, a.length));
        return t;
    }
}
