package io.splitfed.runtime.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;

import org.slf4j.Marker;
import org.slf4j.MarkerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Bounds the log a node writes when something repeats a warning: a stream of garbage from the
 * network, a peer that keeps failing its handshake, a device that keeps sending bad messages.
 * Warnings (and errors) are grouped by logger and by their text with the numbers taken out, so
 * {@code Incompatible protocol version [76]} and {@code [21]} are one kind; each kind may log
 * {@code burst} times per {@code window}, and the first of a kind logged after some were dropped
 * is followed by one line saying how many were. Information and debug lines pass untouched. At most
 * {@code kinds} kinds are remembered (the least recently seen is forgotten), so random text
 * cannot grow the filter either.
 *
 * <p>Installed by the {@code logback.xml} that {@code splitfed} ships:
 * {@code <turboFilter class="io.splitfed.runtime.node.RepeatedWarnings"/>}, with
 * {@code <burst>}, {@code <windowSeconds>} and {@code <kinds>} to change the defaults (20, 60, 1024).
 */
public final class RepeatedWarnings extends TurboFilter {

    /** The marker of the filter's own summary lines, which it lets through. */
    static final Marker SUMMARY = MarkerFactory.getMarker("splitfed-repeated-warnings");

    private int burst = 20;
    private long windowNanos = 60_000_000_000L;
    private int kinds = 1024;
    private final LongSupplier clock;
    private final Map<String, Kind> seen = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Kind> eldest) {
            return size() > kinds;
        }
    };

    public RepeatedWarnings() {
        this(System::nanoTime);
    }

    RepeatedWarnings(LongSupplier clock) {
        this.clock = clock;
    }

    public void setBurst(int burst) {
        this.burst = burst;
    }

    public void setWindowSeconds(int seconds) {
        this.windowNanos = seconds * 1_000_000_000L;
    }

    public void setKinds(int kinds) {
        this.kinds = kinds;
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level == null || !level.isGreaterOrEqual(Level.WARN) || format == null || marker == SUMMARY || !isStarted()) {
            return FilterReply.NEUTRAL;
        }
        long now = clock.getAsLong();
        long dropped;
        String key = logger.getName() + '|' + format.replaceAll("-?\\d+", "#");
        synchronized (seen) {
            Kind kind = seen.computeIfAbsent(key, k -> new Kind(now));
            if (now - kind.windowStart >= windowNanos) {
                kind.windowStart = now;
                kind.logged = 0;
            }
            if (kind.logged >= burst) {
                kind.dropped++;
                return FilterReply.DENY;
            }
            kind.logged++;
            dropped = kind.dropped;
            kind.dropped = 0;
        }
        if (dropped > 0) {
            // logged before the event it precedes: the summary goes through decide() too, and its marker lets it pass
            logger.warn(SUMMARY, "{} more warnings like the next were not logged (at most {} per {} s)", dropped, burst, windowNanos / 1_000_000_000L);
        }
        return FilterReply.NEUTRAL;
    }

    private static final class Kind {
        long windowStart;
        int logged;
        long dropped;

        Kind(long windowStart) {
            this.windowStart = windowStart;
        }
    }
}
