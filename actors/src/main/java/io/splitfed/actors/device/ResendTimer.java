package io.splitfed.actors.device;

import java.time.Duration;

/**
 * How long a device waits for an answer before it sends a micro-batch again: TCP's retransmission
 * timer (RFC 6298) over micro-batches. It follows the answer times measured on micro-batches sent
 * once (Karn's rule: an answer to a resent one could be to either copy), waits
 * {@code SRTT + 4 RTTVAR} and never less than the {@code floor} (the job's ack timeout), and doubles
 * the wait at each expiry up to {@code 16 x floor} until an answer is measured again.
 *
 * <p>A fixed timeout collapses on a slow link: once a window of micro-batches takes longer to
 * carry than the timeout, every one is resent before its answer can come, the copies queue behind
 * the originals, and the link carries nothing but duplicates.
 */
final class ResendTimer {

    private static final double ALPHA = 1.0 / 8;
    private static final double BETA = 1.0 / 4;
    private static final int MAX_BACKOFF = 16;

    private final long floorNanos;
    private double srtt = -1;
    private double rttvar;
    private int backoff = 1;

    ResendTimer(Duration floor) {
        if (floor.isNegative() || floor.isZero()) {
            throw new IllegalArgumentException("splitfed.job.pipeline.ack-timeout must be positive, got " + floor);
        }
        this.floorNanos = floor.toNanos();
    }

    /** A micro-batch sent once was answered {@code nanos} after it was sent. */
    void answered(long nanos) {
        double r = Math.max(0, nanos);
        if (srtt < 0) {
            srtt = r;
            rttvar = r / 2;
        } else {
            rttvar = (1 - BETA) * rttvar + BETA * Math.abs(srtt - r);
            srtt = (1 - ALPHA) * srtt + ALPHA * r;
        }
        backoff = 1;
    }

    /** The wait ran out and something was sent again: wait twice as long next time. */
    void expired() {
        backoff = Math.min(MAX_BACKOFF, backoff * 2);
    }

    /** How long an unanswered micro-batch waits before it is sent again. */
    long timeoutNanos() {
        long estimate = srtt < 0 ? floorNanos : (long) (srtt + 4 * rttvar);
        return Math.max(floorNanos, estimate) * backoff;
    }
}
