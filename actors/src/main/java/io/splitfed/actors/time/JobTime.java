package io.splitfed.actors.time;

import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.fleet.FleetDevice;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import java.time.Duration;

/**
 * The time a job's actors read: the host's ({@link System#nanoTime}) or, in a job run on a fleet,
 * its {@link EmulatedClock}, with the fleet whose speeds give each compute step its duration. One
 * per ActorSystem (an extension); the system is emulated when its scheduler is an
 * {@link EmulatedScheduler} ({@link #emulatedSystem}).
 */
public final class JobTime implements Extension {

    private static final ExtensionId<JobTime> ID = new ExtensionId<>() {
        @Override
        public JobTime createExtension(ActorSystem<?> system) {
            return new JobTime(Adapter.toClassic(system).scheduler() instanceof EmulatedScheduler s ? s.clock() : null);
        }
    };

    private final EmulatedClock clock;
    private volatile Fleet fleet;

    private JobTime(EmulatedClock clock) {
        this.clock = clock;
    }

    public static JobTime get(ActorSystem<?> system) {
        return ID.apply(system);
    }

    /**
     * What a job's ActorSystem needs to run on emulated time, over {@code config}: the emulated
     * scheduler, and every dispatcher counting its work on the clock.
     */
    public static Config emulatedSystem(Config config) {
        String counted = CountedDispatcher.class.getName();
        return ConfigFactory.parseString("pekko.scheduler.implementation = " + EmulatedScheduler.class.getName() + "\n"
                + "pekko.actor.default-dispatcher.executor = " + counted + "\n"
                + "pekko.actor.internal-dispatcher.executor = " + counted + "\n"
                + "pekko.actor.default-blocking-io-dispatcher.executor = " + counted + "\n").withFallback(config);
    }

    /** Nanoseconds on the job's clock (only differences mean anything). */
    public long nanos() {
        return clock == null ? System.nanoTime() : clock.nanos();
    }

    public boolean emulated() {
        return clock != null;
    }

    /** The emulated clock; null on the host's. */
    public EmulatedClock clock() {
        return clock;
    }

    /** Gives the emulated job its fleet, before its actors start. */
    public void install(Fleet f) {
        if (clock == null) {
            throw new IllegalStateException("a fleet's time needs an emulated actor system (JobTime.emulatedSystem)");
        }
        this.fleet = f;
    }

    public Fleet fleet() {
        return fleet;
    }

    /** How long device {@code device}'s compute of {@code forwardFlops} and {@code trainFlops} takes on the fleet; zero off a fleet. */
    public Duration deviceCompute(int device, double forwardFlops, double trainFlops) {
        Fleet f = fleet;
        return f == null ? Duration.ZERO : seconds(f.device(device).computeSeconds(forwardFlops, trainFlops));
    }

    /** How long the server's training step of {@code flops} takes on the fleet; zero off a fleet. */
    public Duration serverCompute(double flops) {
        Fleet f = fleet;
        return f == null ? Duration.ZERO : seconds(f.server().computeSeconds(0, flops));
    }

    /** Device {@code device}'s profile on the fleet; null off a fleet. */
    public FleetDevice device(int device) {
        Fleet f = fleet;
        return f == null ? null : f.device(device);
    }

    private static Duration seconds(double s) {
        return Duration.ofNanos((long) (s * 1e9));
    }
}
