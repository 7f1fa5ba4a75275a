package io.splitfed.actors.job;

import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.SupervisorStrategy;

import java.time.Duration;

/**
 * How devices and shards come back from a failure: restarted with the state they keep outside
 * their behaviour, after a pause that doubles with each failure in a row (0.1 s up to 10 s, with
 * jitter), so one that keeps failing does not spin; messages meanwhile wait.
 */
public final class Supervision {

    private Supervision() {}

    public static final BackoffSupervisorStrategy BACKOFF = SupervisorStrategy
            .restartWithBackoff(Duration.ofMillis(100), Duration.ofSeconds(10), 0.2)
            .withResetBackoffAfter(Duration.ofSeconds(30))
            .withLoggingEnabled(true);
}
