package io.splitfed.runtime.churn;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Slows a node process down by a factor: in every 500 ms period it runs for {@code 500 / factor}
 * ms and is paused ({@code SIGSTOP}) for the rest, so its compute, its sends and its heartbeats
 * all slow down together, as on a weaker or busier device.
 */
final class Throttle {

    private static final long PERIOD_MILLIS = 500;

    private final LocalNode node;
    private final ScheduledExecutorService clock;
    private ScheduledFuture<?> cycle;

    Throttle(LocalNode node, ScheduledExecutorService clock) {
        this.node = node;
        this.clock = clock;
    }

    /** Runs the node at {@code 1 / factor} of its speed; 1 (or less) lets it run freely again. */
    synchronized void slowDown(double factor) {
        stop();
        if (factor <= 1.0) {
            return;
        }
        long running = Math.max(1, (long) (PERIOD_MILLIS / factor));
        cycle = clock.scheduleAtFixedRate(() -> {
            try {
                node.pause();
                clock.schedule(this::resumeQuietly, PERIOD_MILLIS - running, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // the node died (a kill in the schedule): nothing to slow
            }
        }, running, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Lets the node run freely. */
    synchronized void stop() {
        if (cycle != null) {
            cycle.cancel(false);
            cycle = null;
        }
        resumeQuietly();
    }

    private void resumeQuietly() {
        try {
            node.resume();
        } catch (Exception e) {
            // the node died: nothing to resume
        }
    }
}
