package io.splitfed.actors.time;

import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;

import com.typesafe.config.Config;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The executor of a job's dispatchers on emulated time ({@code executor} of a dispatcher's
 * configuration): a fixed pool whose every task is counted on the system's
 * {@link EmulatedClock} from when it is queued until it has run, so that the clock holds while any
 * actor has a message to process.
 */
public final class CountedDispatcher extends ExecutorServiceConfigurator {

    private final DispatcherPrerequisites prerequisites;
    private final int threads;

    public CountedDispatcher(Config config, DispatcherPrerequisites prerequisites) {
        super(config, prerequisites);
        this.prerequisites = prerequisites;
        this.threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    }

    @Override
    public ExecutorServiceFactory createExecutorServiceFactory(String id, ThreadFactory threadFactory) {
        return () -> {
            if (!(prerequisites.scheduler() instanceof EmulatedScheduler s)) {
                throw new IllegalStateException("dispatcher " + id + " counts work on an emulated clock, but the system's scheduler is "
                        + prerequisites.scheduler().getClass().getName() + "; set pekko.scheduler.implementation to " + EmulatedScheduler.class.getName());
            }
            return new Counted(Executors.newFixedThreadPool(threads, threadFactory), s.clock());
        };
    }

    /** Runs each task on the pool, counted on the clock. */
    static final class Counted extends AbstractExecutorService {
        private final ExecutorService pool;
        private final EmulatedClock clock;

        Counted(ExecutorService pool, EmulatedClock clock) {
            this.pool = pool;
            this.clock = clock;
        }

        @Override
        public void execute(Runnable command) {
            Runnable task = clock.counted(command);
            try {
                pool.execute(task);
            } catch (RuntimeException e) {
                clock.exit(); // refused (shut down): never runs
                throw e;
            }
        }

        @Override
        public void shutdown() {
            pool.shutdown();
        }

        @Override
        public List<Runnable> shutdownNow() {
            return pool.shutdownNow();
        }

        @Override
        public boolean isShutdown() {
            return pool.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return pool.isTerminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return pool.awaitTermination(timeout, unit);
        }
    }
}
