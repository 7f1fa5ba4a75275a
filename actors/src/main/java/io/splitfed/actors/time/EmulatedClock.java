package io.splitfed.actors.time;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Emulated time for one job's actor system: a clock that stands still while anything of the job
 * is at work, and jumps to the next timed event once nothing is. "At work" is counted: every task
 * handed to the job's dispatchers and to the tensor thread {@link #enter}s before it is queued and
 * {@link #exit}s when it has run, so a message in flight, an actor busy or a tensor step queued all
 * hold the clock. Events run one at a time, each only when the one before has settled, in the
 * order of their due time, then of their key, then of when they were scheduled: so the job's
 * order of events follows emulated time, not the host's thread timing.
 */
public final class EmulatedClock implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmulatedClock.class);

    /** Key of events that name none (the scheduler's timers): after keyed events due at the same instant. */
    public static final long TIMER_KEY = Long.MAX_VALUE / 2;

    /** A scheduled task; cancelled ones stay queued and are skipped. */
    public static final class Event implements Comparable<Event> {
        final long due;
        final long key;
        final long seq;
        final Runnable task;
        volatile boolean cancelled;

        Event(long due, long key, long seq, Runnable task) {
            this.due = due;
            this.key = key;
            this.seq = seq;
            this.task = task;
        }

        /** True when this call cancelled it (it had neither run nor been cancelled). */
        public boolean cancel() {
            boolean was = cancelled;
            cancelled = true;
            return !was;
        }

        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public int compareTo(Event o) {
            int c = Long.compare(due, o.due);
            if (c == 0) {
                c = Long.compare(key, o.key);
            }
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong entries = new AtomicLong();
    private long nextSeq;
    private volatile long now;
    private volatile boolean closed;
    private final Thread driver;

    private final java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * A clock that holds still until {@link #start}: while an actor system starts, its own
     * threads wait on timeouts (its loggers') that no counted work would keep from firing.
     */
    public EmulatedClock(String name) {
        active.incrementAndGet(); // released by start()
        driver = new Thread(this::drive, name + "-emulated-clock");
        driver.setDaemon(true);
        driver.start();
    }

    /** Lets the clock move: call from counted work (an actor's setup), once the job's actors are spawned. */
    public void start() {
        if (started.compareAndSet(false, true)) {
            exit();
        }
    }

    /** Emulated nanoseconds since the clock started. */
    public long nanos() {
        return now;
    }

    /** Runs {@code task} on the clock's thread at emulated time {@code due} (now, when that has passed), ordered among equals by {@code key}. */
    public Event at(long due, long key, Runnable task) {
        synchronized (queue) {
            Event e = new Event(Math.max(due, now), key, nextSeq++, task);
            queue.add(e);
            return e;
        }
    }

    /** Work of the job begins (queued or running): the clock holds until the matching {@link #exit}. */
    public void enter() {
        entries.incrementAndGet();
        active.incrementAndGet();
    }

    public void exit() {
        if (active.decrementAndGet() == 0) {
            LockSupport.unpark(driver);
        }
    }

    /** {@code task} counted as the job's work from now until it has run. */
    public Runnable counted(Runnable task) {
        enter();
        return () -> {
            try {
                task.run();
            } finally {
                exit();
            }
        };
    }

    private void drive() {
        while (!closed) {
            if (!settled()) {
                LockSupport.parkNanos(200_000);
                continue;
            }
            Event next;
            synchronized (queue) {
                next = queue.poll();
                while (next != null && next.cancelled) {
                    next = queue.poll();
                }
            }
            if (next == null) {
                LockSupport.parkNanos(1_000_000);
                continue;
            }
            now = Math.max(now, next.due);
            enter();
            try {
                next.task.run();
            } catch (Throwable t) {
                LOG.error("emulated clock: an event failed at {} ns", now, t);
            } finally {
                exit();
            }
        }
    }

    /**
     * Nothing of the job at work, twice over a short wait with no work begun in between: a task
     * that hands work on enters the next before it exits itself, so the count drops to zero only
     * when the job is idle.
     */
    private boolean settled() {
        if (active.get() != 0) {
            return false;
        }
        long seen = entries.get();
        LockSupport.parkNanos(20_000);
        return active.get() == 0 && entries.get() == seen;
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(driver);
    }
}
