package io.splitfed.actors.metrics;

import java.time.Instant;

/** Wall-clock microseconds, comparable across the JVMs of one host (timelines, Gantt charts). */
public final class JobClock {

    private JobClock() {}

    public static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
}
