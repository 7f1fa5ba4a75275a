package io.splitfed.actors.coordinator;

import io.splitfed.actors.coordinator.RoundCoordinator.CloseDue;
import io.splitfed.actors.coordinator.RoundCoordinator.Command;
import io.splitfed.actors.coordinator.RoundCoordinator.Deadline;
import io.splitfed.actors.coordinator.RoundCoordinator.DeviceRejoined;
import io.splitfed.actors.coordinator.RoundCoordinator.DeviceTerminated;
import io.splitfed.actors.coordinator.RoundCoordinator.FromCollector;
import io.splitfed.actors.coordinator.RoundCoordinator.FromDevice;
import io.splitfed.actors.coordinator.RoundCoordinator.FromShard;
import io.splitfed.actors.coordinator.RoundCoordinator.Scored;
import io.splitfed.actors.coordinator.RoundCoordinator.ShardLost;
import io.splitfed.actors.coordinator.RoundCoordinator.ShardReplaced;
import io.splitfed.actors.coordinator.RoundCoordinator.WaitOver;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.time.JobTime;
import io.splitfed.actors.wire.Outbox;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.util.List;
import java.util.Map;

/**
 * The coordinator once its devices have profiled themselves: the shell around its core, the
 * {@link JobCourse}. It turns messages into calls on the core and carries out the
 * {@link RoundEffect}s it returns: sends through the {@link Outbox}, timers, and the job's events.
 * It knows the actors ({@link Membership}); the core knows numbers. A round's result reaches the
 * core only from the device's own actor ({@link UpdateAdmission}).
 */
final class RoundCycle extends AbstractBehavior<Command> {

    private final CoordinatorSettings settings;
    private final TimerScheduler<Command> timers;
    private final Membership members;
    private final JobCourse course;
    private final ActorRef<CheckpointCollector.Command> collector;
    private final ActorRef<RoundScorer.Command> scorer;
    /** Null when nobody listens to the job. */
    private final ActorRef<JobProgress.Command> progress;
    private final Outbox outbox;

    RoundCycle(ActorContext<Command> context, TimerScheduler<Command> timers, CoordinatorSettings settings, Map<Integer, DeviceProfile> profiles) {
        super(context);
        this.outbox = Outbox.get(context.getSystem());
        this.settings = settings;
        this.timers = timers;
        var config = context.getSystem().settings().config();
        JobTime time = JobTime.get(context.getSystem()); // a fleet's emulated time, where the job runs on one
        this.course = new JobCourse(RoundRules.of(settings, config.getDuration("splitfed.coordinator.close-timeout"), time.fleet()), profiles,
                time::nanos, context.getLog());
        this.members = new Membership(settings);
        var resume = settings.resume();
        this.scorer = context.spawn(RoundScorer.create(settings.aggregator(), settings.evaluator(),
                context.messageAdapter(RoundScorer.Scored.class, Scored::new)), "scorer");
        this.collector = context.spawn(CheckpointCollector.create(settings.spec().checkpoint(), resume != null ? resume.devices() : Map.of(),
                context.messageAdapter(CheckpointCollector.Reply.class, FromCollector::new)), "checkpoints");
        members.devices().forEach((id, ref) -> context.watchWith(ref, new DeviceTerminated(id, ref)));
        this.progress = settings.listener() == null ? null : context.spawn(JobProgress.create(settings.listener(),
                config.getDuration("splitfed.coordinator.shard-load-interval")), "progress");
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(FromDevice.class, m -> m.report() instanceof DeviceActor.RoundDone, m -> onRoundDone((DeviceActor.RoundDone) m.report()))
                .onMessage(FromDevice.class, m -> m.report() instanceof DeviceActor.Profiled, m -> {
                    DeviceProfile p = ((DeviceActor.Profiled) m.report()).profile(); // a device that rejoined
                    course.profiled(p);
                    getContext().watchWith(members.device(p.device()), new DeviceTerminated(p.device(), members.device(p.device())));
                    return this;
                })
                .onMessage(FromShard.class, m -> m.report() instanceof ServerShard.Closed, m -> run(course.shardClosed((ServerShard.Closed) m.report())))
                .onMessage(Scored.class, m -> run(course.scored(m.scored())))
                .onMessage(FromCollector.class, m -> onCollector(m.reply()))
                .onMessage(WaitOver.class, m -> run(course.waitOver(m.round())))
                .onMessage(DeviceTerminated.class, this::onTerminated)
                .onMessage(DeviceRejoined.class, this::onRejoined)
                .onMessage(ShardReplaced.class, m -> {
                    members.shardReplaced(m.shard(), m.ref());
                    return run(course.shardReplaced(m.shard()));
                })
                .onMessage(ShardLost.class, m -> run(course.shardLost(m.lost().shard(), m.lost().round()))) // behind the same route
                .onMessage(CloseDue.class, m -> run(course.closeDue(m.round())))
                .onMessage(Deadline.class, m -> run(course.deadline(m.round())))
                .build();
    }

    /** The first round: 0, or the one after the checkpoint the job resumed from; or the end, when none is left. */
    Behavior<Command> begin() {
        return run(course.begin());
    }

    private Behavior<Command> onRoundDone(DeviceActor.RoundDone m) {
        String refused = UpdateAdmission.check(m, members.devices());
        if (refused != null) {
            getContext().getLog().warn(refused);
            return this;
        }
        return run(course.result(m.device(), m.round(), m.stats(), m.update()));
    }

    private Behavior<Command> onTerminated(DeviceTerminated m) {
        if (!members.current(m.device(), m.ref()) || members.spuriousTermination(getContext().getSystem(), m.device(), m.ref())) {
            return this; // replaced by a rejoin; or Pekko's Terminated for a node back at a removed address
        }
        return run(course.left(m.device()));
    }

    private Behavior<Command> onRejoined(DeviceRejoined m) {
        members.rejoined(m.device(), m.ref());
        course.rejoined(m.device());
        // watched once it has answered: a watch set up at once on a node that came back at the address of
        // one the cluster has just removed is answered with Terminated at once, and the device would be lost again
        outbox.send(m.ref(), new DeviceActor.Profile(settings.stepsPerRound().get(m.device()), RoundCoordinator.DEVICE_REPORTS.replyTo(getContext().getSelf())));
        getContext().getLog().info("device {} rejoined; it is sampled from the next round", m.device());
        return this;
    }

    private Behavior<Command> onCollector(CheckpointCollector.Reply reply) {
        if (reply instanceof CheckpointCollector.Gathered g) {
            return run(course.checkpointGathered(g.roundsDone()));
        }
        CheckpointCollector.Written w = (CheckpointCollector.Written) reply;
        return run(course.checkpointWritten(w.roundsDone(), w.error() == null ? w.file().toString() : null));
    }

    // ---- carrying out what the core decided

    /** Carries out {@code effects} in order; the coordinator stops once the job is finished. */
    private Behavior<Command> run(List<RoundEffect> effects) {
        boolean finished = false;
        for (RoundEffect e : effects) {
            finished |= apply(e);
        }
        return finished ? Behaviors.stopped() : this;
    }

    /** Carries out {@code e}; true when it ends the job. */
    private boolean apply(RoundEffect e) {
        if (e instanceof RoundEffect.Opened o) {
            if (progress != null) {
                outbox.send(progress, new JobProgress.RoundOpened(o.round(), o.microBatches(), List.copyOf(members.shards())));
            }
            members.shards().forEach(shard -> outbox.send(shard, new ServerShard.RoundStarted(o.round())));
        } else if (e instanceof RoundEffect.Start s) {
            outbox.send(members.device(s.device()), new DeviceActor.StartRound(s.round(), s.steps(), s.global(), members.shardFor(s.device()),
                    RoundCoordinator.DEVICE_REPORTS.replyTo(getContext().getSelf()),
                    progress == null ? null : JobProgress.DEVICE_REPORTS.replyTo(progress), s.plan()));
        } else if (e instanceof RoundEffect.Abort a) {
            outbox.send(members.device(a.device()), new DeviceActor.AbortRound(a.round()));
        } else if (e instanceof RoundEffect.Rewind r) {
            outbox.send(members.device(r.device()), new DeviceActor.Rewind(r.round(), members.shardFor(r.device()), r.global(), r.evenIfDone()));
        } else if (e instanceof RoundEffect.ShardOpen o) {
            outbox.send(members.shards().get(o.shard()), new ServerShard.RoundStarted(o.round()));
        } else if (e instanceof RoundEffect.Closing c) {
            if (progress != null) {
                outbox.send(progress, new JobProgress.RoundClosing(c.round()));
            }
        } else if (e instanceof RoundEffect.CloseShards c) {
            var reports = RoundCoordinator.SHARD_REPORTS.replyTo(getContext().getSelf());
            c.shards().forEach(s -> outbox.send(members.shards().get(s), new ServerShard.CloseRound(c.round(), reports)));
        } else if (e instanceof RoundEffect.LoadServer l) {
            l.shards().forEach(s -> outbox.send(members.shards().get(s), new ServerShard.LoadAdapter(l.round(), l.adapter())));
        } else if (e instanceof RoundEffect.Score s) {
            outbox.send(scorer, s.score());
        } else if (e instanceof RoundEffect.Checkpoint c) {
            outbox.send(collector, new CheckpointCollector.Collect(c.base(), List.copyOf(members.shards()), members.present(course::gone)));
        } else if (e instanceof RoundEffect.Arm a) {
            timers.startSingleTimer(a.timer(), timerMessage(a), a.after());
        } else if (e instanceof RoundEffect.Disarm d) {
            timers.cancel(d.timer());
        } else if (e instanceof RoundEffect.Emit m) {
            if (settings.listener() != null) {
                outbox.send(settings.listener(), m.event());
            }
        } else if (e instanceof RoundEffect.Finish f) {
            outbox.send(settings.replyTo(), f.result());
            return true;
        }
        return false;
    }

    private static Command timerMessage(RoundEffect.Arm a) {
        switch (a.timer()) {
            case DEADLINE:
                return new Deadline(a.round());
            case CLOSE:
                return new CloseDue(a.round());
            default:
                return new WaitOver(a.round());
        }
    }
}
