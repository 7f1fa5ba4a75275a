package io.splitfed.actors.coordinator;

import io.splitfed.actors.coordinator.RoundCoordinator.Command;
import io.splitfed.actors.coordinator.RoundCoordinator.FromDevice;
import io.splitfed.actors.coordinator.RoundCoordinator.ProfilesDue;
import io.splitfed.actors.coordinator.RoundCoordinator.Start;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.wire.Outbox;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The coordinator's first state: on {@link Start}, a resumed job's devices get their snapshots,
 * then every device times a frozen forward of its own data. When all have answered (or at
 * {@code planning.profile-timeout}, without the silent ones), the coordinator becomes a
 * {@link RoundCycle}; whatever else arrived meanwhile is held for it.
 */
final class Profiling extends AbstractBehavior<Command> {

    private final TimerScheduler<Command> timers;
    private final StashBuffer<Command> stash;
    private final CoordinatorSettings settings;
    private final Map<Integer, DeviceProfile> profiles = new LinkedHashMap<>();
    private final Set<Integer> awaiting = new TreeSet<>();
    private final Outbox outbox;
    private boolean started;

    Profiling(ActorContext<Command> context, TimerScheduler<Command> timers, StashBuffer<Command> stash, CoordinatorSettings settings) {
        super(context);
        this.outbox = Outbox.get(context.getSystem());
        this.timers = timers;
        this.stash = stash;
        this.settings = settings;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessageEquals(Start.INSTANCE, this::onStart)
                .onMessage(FromDevice.class, m -> m.report() instanceof DeviceActor.Profiled, m -> {
                    DeviceProfile p = ((DeviceActor.Profiled) m.report()).profile();
                    profiles.put(p.device(), p);
                    return awaiting.remove(p.device()) && awaiting.isEmpty() ? rounds() : this;
                })
                .onMessageEquals(ProfilesDue.INSTANCE, () -> {
                    getContext().getLog().warn("devices {} sent no profile within {}; starting without them", awaiting,
                            settings.spec().planning().profileTimeout());
                    return rounds();
                })
                .onAnyMessage(m -> {
                    stash.stash(m);
                    return this;
                })
                .build();
    }

    private Behavior<Command> onStart() {
        if (started) {
            return this;
        }
        started = true;
        var devices = settings.devices();
        if (settings.resume() != null) {
            // ahead of everything else the coordinator sends them, so it arrives first
            settings.resume().devices().forEach((d, snap) -> {
                if (devices.containsKey(d)) {
                    outbox.send(devices.get(d), new DeviceActor.Resume(snap));
                }
            });
        }
        awaiting.addAll(devices.keySet());
        devices.forEach((d, ref) -> outbox.send(ref, new DeviceActor.Profile(settings.stepsPerRound().get(d), RoundCoordinator.DEVICE_REPORTS.replyTo(getContext().getSelf()))));
        timers.startSingleTimer("profiles", ProfilesDue.INSTANCE, settings.spec().planning().profileTimeout());
        return awaiting.isEmpty() ? rounds() : this;
    }

    /** Profiling is over: the rounds begin, with what was held. */
    private Behavior<Command> rounds() {
        timers.cancel("profiles");
        RoundCycle cycle = new RoundCycle(getContext(), timers, settings, profiles);
        return stash.unstashAll(cycle.begin());
    }
}
