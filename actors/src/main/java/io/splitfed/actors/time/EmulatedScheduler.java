package io.splitfed.actors.time;

import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.Scheduler;
import org.apache.pekko.event.LoggingAdapter;

import com.typesafe.config.Config;

import java.io.Closeable;
import java.util.concurrent.ThreadFactory;

import scala.concurrent.ExecutionContext;
import scala.concurrent.duration.FiniteDuration;

/**
 * Pekko's scheduler on an {@link EmulatedClock}, installed by configuration
 * ({@code pekko.scheduler.implementation}) in a job that runs on a fleet's time: every timer,
 * deadline, resend tick and ask timeout of the job's actors fires at its emulated instant, handed
 * to its dispatcher when the clock gets there.
 */
public final class EmulatedScheduler implements Scheduler, Closeable {

    private final EmulatedClock clock;

    /** The constructor Pekko calls, as for its own scheduler. */
    public EmulatedScheduler(Config config, LoggingAdapter log, ThreadFactory threadFactory) {
        this.clock = new EmulatedClock("splitfed");
    }

    public EmulatedClock clock() {
        return clock;
    }

    @Override
    public Cancellable scheduleOnce(FiniteDuration delay, Runnable runnable, ExecutionContext executor) {
        EmulatedClock.Event e = clock.at(clock.nanos() + Math.max(0, delay.toNanos()), EmulatedClock.TIMER_KEY, () -> executor.execute(runnable));
        return new Cancellable() {
            @Override
            public boolean cancel() {
                return e.cancel();
            }

            @Override
            public boolean isCancelled() {
                return e.isCancelled();
            }
        };
    }

    @Override
    @SuppressWarnings("deprecation")
    public Cancellable schedule(FiniteDuration initialDelay, FiniteDuration interval, Runnable runnable, ExecutionContext executor) {
        long step = Math.max(1, interval.toNanos());
        Repeating r = new Repeating(step, runnable, executor);
        r.arm(clock.nanos() + Math.max(0, initialDelay.toNanos()));
        return r;
    }

    /** A timer that re-arms itself each time it fires, until cancelled. */
    private final class Repeating implements Cancellable {
        private final long interval;
        private final Runnable runnable;
        private final ExecutionContext executor;
        private volatile EmulatedClock.Event current;
        private volatile boolean cancelled;

        Repeating(long interval, Runnable runnable, ExecutionContext executor) {
            this.interval = interval;
            this.runnable = runnable;
            this.executor = executor;
        }

        void arm(long due) {
            current = clock.at(due, EmulatedClock.TIMER_KEY, () -> {
                if (!cancelled) {
                    arm(clock.nanos() + interval);
                    executor.execute(runnable);
                }
            });
        }

        @Override
        public boolean cancel() {
            boolean was = cancelled;
            cancelled = true;
            EmulatedClock.Event e = current;
            if (e != null) {
                e.cancel();
            }
            return !was;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }
    }

    @Override
    public double maxFrequency() {
        return 1e9;
    }

    @Override
    public void close() {
        clock.close();
    }
}
