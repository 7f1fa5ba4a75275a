package io.splitfed.actors.link;

import io.splitfed.actors.time.EmulatedClock;
import io.splitfed.actors.time.JobTime;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.lora.LoraAdapter;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The {@link Outbox} behind simulated links and injected faults: the one place a message is
 * delayed, lost or poisoned on its way. Each direction of each device's link has a
 * {@link LinkShaper} (its rate and latency, or none) and a {@link DelayLine}, so messages arrive in
 * the order they were sent, each when the link would have carried it. What a fault imposes on a
 * device ({@link DeviceConditions}) acts here too: extra latency and a cut on its uplink, and a
 * Byzantine scale on its updates. Installed by a job only when it simulates links or injects
 * faults; thread-safe (a shard's tensor thread and the timer send through it).
 */
public final class SimulatedLinks implements Links {

    /** Runs a task after a delay: the job's scheduler. {@code key} orders tasks due at the same instant on an emulated clock. */
    @FunctionalInterface
    public interface Timer {
        void after(Duration delay, long key, Runnable task);
    }

    private final Outbox outbox;
    private final Timer timer;
    private final LongSupplier clock;
    private final IntFunction<LinkShaper> uplink;
    private final IntFunction<LinkShaper> downlink;
    private final IntFunction<DeviceConditions> conditions;
    private final Map<Integer, DelayLine<Runnable>> up = new HashMap<>();
    private final Map<Integer, DelayLine<Runnable>> down = new HashMap<>();
    /** False on an emulated clock: even a message due now waits for the clock, so that arrivals follow emulated time. */
    private final boolean inline;

    /**
     * Each function gives a device's current uplink, downlink and fault conditions, or null where
     * there is none; {@code clock} is in nanoseconds, on {@link System#nanoTime}'s scale in a job.
     */
    public SimulatedLinks(Outbox outbox, Timer timer, LongSupplier clock, IntFunction<LinkShaper> uplink, IntFunction<LinkShaper> downlink,
            IntFunction<DeviceConditions> conditions) {
        this(outbox, timer, clock, uplink, downlink, conditions, true);
    }

    private SimulatedLinks(Outbox outbox, Timer timer, LongSupplier clock, IntFunction<LinkShaper> uplink, IntFunction<LinkShaper> downlink,
            IntFunction<DeviceConditions> conditions, boolean inline) {
        this.inline = inline;
        this.outbox = outbox;
        this.timer = timer;
        this.clock = clock;
        this.uplink = uplink;
        this.downlink = downlink;
        this.conditions = conditions;
    }

    /** A device's end, on {@code system}'s scheduler and the job's clock: its uplink as it is now, and what faults impose on it. */
    public static SimulatedLinks device(ActorSystem<?> system, Outbox outbox, Supplier<LinkShaper> uplink, DeviceConditions conditions) {
        JobTime time = JobTime.get(system);
        return new SimulatedLinks(outbox, timer(system, time), time::nanos, d -> uplink.get(), d -> null, d -> conditions, !time.emulated());
    }

    /** A shard's end, on {@code system}'s scheduler and the job's clock: each device's downlink. */
    public static SimulatedLinks shard(ActorSystem<?> system, Outbox outbox, IntFunction<LinkShaper> downlink) {
        JobTime time = JobTime.get(system);
        return new SimulatedLinks(outbox, timer(system, time), time::nanos, d -> null, downlink, d -> null, !time.emulated());
    }

    /** The system's scheduler; on an emulated clock, its events keyed by link so that equal arrival times fall in the same order every run. */
    private static Timer timer(ActorSystem<?> system, JobTime time) {
        if (time.emulated()) {
            EmulatedClock clock = time.clock();
            return (delay, key, task) -> clock.at(clock.nanos() + delay.toNanos(), key, task);
        }
        return (delay, key, task) -> system.scheduler().scheduleOnce(delay, task, system.executionContext());
    }

    @Override
    public <T> long up(int device, ActorRef<T> to, T message, long bytes) {
        long now = clock.getAsLong();
        DeviceConditions c = conditions.apply(device);
        if (c != null && c.cutAt(now)) {
            return now; // the link is down: lost, and sent again after the resend timeout
        }
        long delay = delay(uplink.apply(device), bytes, now) + (c == null ? 0 : c.extraLatencyNanos());
        deliver(line(up, device), 2L * device, now, now + delay, to, message);
        return now + delay;
    }

    @Override
    public <T> void down(int device, ActorRef<T> to, T message, long bytes) {
        long now = clock.getAsLong();
        deliver(line(down, device), 2L * device + 1, now, now + delay(downlink.apply(device), bytes, now), to, message);
    }

    @Override
    public LoraAdapter outgoing(int device, LoraAdapter update) {
        DeviceConditions c = conditions.apply(device);
        return update == null || c == null || c.poison() == 1.0 ? update : update.scaled((float) c.poison());
    }

    @Override
    public boolean simulated() {
        return true;
    }

    private static long delay(LinkShaper shaper, long bytes, long now) {
        return shaper == null ? 0 : shaper.send(bytes, now).toNanos();
    }

    private synchronized DelayLine<Runnable> line(Map<Integer, DelayLine<Runnable>> lines, int device) {
        return lines.computeIfAbsent(device, d -> new DelayLine<>());
    }

    /** At once when nothing waits on the line and it is due; otherwise behind what waits, in order. */
    private <T> void deliver(DelayLine<Runnable> line, long key, long now, long due, ActorRef<T> to, T message) {
        synchronized (line) {
            if (inline && due <= now && line.isEmpty()) {
                outbox.send(to, message);
            } else if (line.add(due, () -> outbox.send(to, message))) {
                arm(line, key, now);
            }
        }
    }

    private void arm(DelayLine<Runnable> line, long key, long now) {
        timer.after(Duration.ofNanos(Math.max(0, line.nextDueNanos() - now)), key, () -> drain(line, key));
    }

    private void drain(DelayLine<Runnable> line, long key) {
        synchronized (line) {
            long now = clock.getAsLong();
            line.takeDue(now, Runnable::run);
            if (!line.isEmpty()) {
                arm(line, key, now);
            }
        }
    }
}
