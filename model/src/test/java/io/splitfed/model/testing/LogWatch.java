package io.splitfed.model.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;

import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Counts the log events of this JVM that match, so that a test waits on something that happened
 * (a refused TLS handshake, a dropped message) instead of sleeping: the positive event that shows a
 * window has passed before a negative is asserted. Attached to the root logger while open.
 */
public final class LogWatch implements AutoCloseable {

    private final Predicate<String> match;
    private final AtomicInteger seen = new AtomicInteger();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            if (match.test(text(e))) {
                synchronized (seen) {
                    seen.incrementAndGet();
                    seen.notifyAll();
                }
            }
        }
    };
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    private LogWatch(Predicate<String> match) {
        this.match = match;
        appender.setContext(root.getLoggerContext());
        appender.start();
        root.addAppender(appender);
    }

    /** Watches for events whose message or cause contains {@code text}. */
    public static LogWatch forText(String text) {
        return new LogWatch(line -> line.contains(text));
    }

    /** The event's message, with the class and message of each cause. */
    private static String text(ILoggingEvent e) {
        StringBuilder b = new StringBuilder(e.getFormattedMessage());
        for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
            b.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
        }
        return b.toString();
    }

    /** How many matching events were logged so far. */
    public int count() {
        return seen.get();
    }

    /** Waits until at least {@code times} matching events were logged; false if {@code within} passed first. */
    public boolean await(int times, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        synchronized (seen) {
            while (seen.get() < times) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(seen, left);
            }
            return true;
        }
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        appender.stop();
    }
}
