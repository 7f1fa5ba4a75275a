package io.splitfed.actors.job;

import io.splitfed.actors.chaos.Fault;
import io.splitfed.actors.chaos.Faults;

import io.splitfed.actors.aggregator.AggregationStrategy;
import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.coordinator.RoundCoordinator;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.fleet.Fleet;
import io.splitfed.actors.checkpoint.Checkpoints;
import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.device.DeviceState;
import io.splitfed.actors.server.ShardState;
import io.splitfed.actors.plan.RoundPlanner;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.time.EmulatedClock;
import io.splitfed.actors.time.JobTime;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.tensor.TensorExecutor;

import com.typesafe.config.Config;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Wires a prepared job into actors: an aggregator, the server shards (split modes), one device
 * actor per device and the round coordinator, under one guardian that stops when the job ends.
 * {@link #behavior} runs inside any ActorSystem; {@link #run} makes a system of its own.
 */
public final class TrainingJob {

    private TrainingJob() {}

    /**
     * A job started by {@link #run}: its control channel, its result, and {@code terminated},
     * which completes once the job's own ActorSystem has shut down after it.
     */
    public record RunningJob(ActorRef<JobControl> control, CompletableFuture<JobResult> result, CompletionStage<?> terminated, Outbox outbox) {

        /** Sends {@code m} to the job's control channel. */
        public void send(JobControl m) {
            outbox.send(control, m);
        }
    }

    /**
     * The job as a behaviour: spawn it anywhere; it replies to {@code replyTo} and stops. It takes
     * {@link JobControl} commands while it runs.
     */
    public static Behavior<JobControl> behavior(PreparedJob job, ActorRef<JobResult> replyTo, ActorRef<JobEvent> listener) {
        return behavior(job, replyTo, listener, null);
    }

    /** As above, with the rounds planned by {@code planner} (null: the job's {@code planning.policy}). */
    public static Behavior<JobControl> behavior(PreparedJob job, ActorRef<JobResult> replyTo, ActorRef<JobEvent> listener, RoundPlanner planner) {
        return behavior(job, replyTo, listener, planner, system -> latest(system, job.spec()), false);
    }

    /** The checkpoint {@code spec} resumes from: null when it does not resume or finds none. */
    private static JobCheckpoint latest(ActorSystem<?> system, JobSpec spec) {
        return spec.checkpoint().resume() ? Checkpoints.latest(system, spec.checkpoint().dir(), spec.checkpoint().job()) : null;
    }

    /** {@code resume} finds the checkpoint to go on from (null: none). */
    private static Behavior<JobControl> behavior(PreparedJob job, ActorRef<JobResult> replyTo, ActorRef<JobEvent> listener, RoundPlanner planner,
            java.util.function.Function<ActorSystem<?>, JobCheckpoint> resumeFrom, boolean faults) {
        return Behaviors.setup(ctx -> {
            JobPlan plan = new JobPlan(job);
            Outbox outbox = Outbox.get(ctx.getSystem());
            // the fault decorator wraps devices and shards only where the job was started for fault injection
            java.util.function.BiConsumer<ActorRef<?>, Fault> inject = (ref, fault) -> {
                if (faults) {
                    Faults.inject(outbox, ref, fault);
                } else {
                    ctx.getLog().warn("fault injection is off in this job: {} not injected (splitfed churn, or TrainingJob.runWithFaults, installs it)", fault);
                }
            };
            UnaryOperator<Behavior<ServerShard.Command>> shardFaults = faults ? Faults.shard() : UnaryOperator.identity();
            java.util.function.Function<DeviceState, UnaryOperator<Behavior<DeviceActor.Command>>> deviceFaults =
                    state -> faults ? Faults.device(state.acceptFaults()) : UnaryOperator.identity();
            JobSpec spec = job.spec();
            int devices = job.devices();
            JobCheckpoint resume = resumeFrom.apply(ctx.getSystem());
            if (spec.checkpoint().resume() && resume == null) {
                ctx.getLog().warn("no checkpoint in {}; starting from round 0", spec.checkpoint().dir());
            }
            ActorRef<Aggregator.Command> aggregator = ctx.spawn(Aggregator.create(AggregationStrategy.parse(spec.federation().aggregation())), "aggregator");
            List<ActorRef<ServerShard.Command>> shards = new ArrayList<>();
            List<ShardState> shardStates = new ArrayList<>();
            for (int s = 0; s < plan.shards(); s++) {
                ShardState shard = plan.shardState(s);
                if (resume != null && resume.shards().containsKey(s)) {
                    shard.resumedFrom(resume.shards().get(s));
                }
                shardStates.add(shard);
                shards.add(ctx.spawn(ServerShard.create(shard, shardFaults), "server-shard-" + s));
            }
            Map<Integer, ActorRef<DeviceActor.Command>> deviceRefs = new LinkedHashMap<>();
            Map<Integer, DeviceState> deviceStates = new LinkedHashMap<>();
            for (int d = 0; d < devices; d++) {
                DeviceState state = plan.deviceState(d); // resumed by the coordinator's first message, as in a cluster
                deviceStates.put(d, state);
                deviceRefs.put(d, ctx.spawn(DeviceActor.create(state, deviceFaults.apply(state)), "device-" + d));
            }
            ActorRef<RoundCoordinator.Command> coordinator = ctx.spawn(RoundCoordinator.create(plan.coordinatorSettings(deviceRefs, shards, aggregator, listener, replyTo,
                    planner != null ? planner : plan.planner(true, JobTime.get(ctx.getSystem()).fleet()), resume)), "coordinator");
            ctx.watch(coordinator);
            outbox.send(coordinator, RoundCoordinator.Start.INSTANCE);
            int[] restarts = new int[devices];
            int[] shardRestarts = new int[Math.max(1, shards.size())];
            return Behaviors.receive(JobControl.class)
                    .onMessage(JobControl.StopDevice.class, m -> {
                        ActorRef<DeviceActor.Command> ref = deviceRefs.get(m.device());
                        if (ref != null) {
                            ctx.getLog().warn("stopping device {}", m.device());
                            ctx.stop(ref);
                        }
                        return Behaviors.same();
                    })
                    .onMessage(JobControl.RestartDevice.class, m -> {
                        DeviceState state = deviceStates.get(m.device());
                        if (state != null) {
                            ActorRef<DeviceActor.Command> ref = ctx.spawn(DeviceActor.create(state, deviceFaults.apply(state)),
                                    "device-" + m.device() + "-r" + (++restarts[m.device()]));
                            deviceRefs.put(m.device(), ref);
                            outbox.send(coordinator, new RoundCoordinator.DeviceRejoined(m.device(), ref));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(JobControl.SlowDevice.class, m -> {
                        inject.accept(deviceRefs.get(m.device()), new Fault.SlowDown(m.factor()));
                        return Behaviors.same();
                    })
                    .onMessage(JobControl.CrashDevice.class, m -> {
                        inject.accept(deviceRefs.get(m.device()), new Fault.Crash("crash injected into device " + m.device()));
                        return Behaviors.same();
                    })
                    .onMessage(JobControl.CrashShard.class, m -> {
                        inject.accept(shards.get(m.shard()), new Fault.Crash("crash injected into shard " + m.shard()));
                        return Behaviors.same();
                    })
                    .onMessage(JobControl.KillShard.class, m -> {
                        if (m.shard() < 0 || m.shard() >= shards.size()) {
                            ctx.getLog().warn("fault injection: no shard {} (the job has {})", m.shard(), shards.size());
                            return Behaviors.same();
                        }
                        ctx.getLog().warn("fault injection: shard {} loses its node; back in {} ms", m.shard(), m.downMillis());
                        ctx.stop(shards.get(m.shard()));
                        outbox.sendLater(java.time.Duration.ofMillis(m.downMillis()), ctx.getSelf(), new JobControl.RestartShard(m.shard()));
                        return Behaviors.same();
                    })
                    .onMessage(JobControl.RestartShard.class, m -> {
                        // the lost node's memory is gone: the shard goes on from its state at the round's start
                        var boundary = shardStates.get(m.shard()).boundary();
                        ShardState fresh = plan.shardState(m.shard());
                        if (boundary != null) {
                            fresh.resumedFrom(boundary);
                        }
                        ActorRef<ServerShard.Command> ref = ctx.spawn(ServerShard.create(fresh, shardFaults), "server-shard-" + m.shard() + "-r" + (++shardRestarts[m.shard()]));
                        shards.set(m.shard(), ref);
                        shardStates.set(m.shard(), fresh);
                        outbox.send(coordinator, new RoundCoordinator.ShardReplaced(m.shard(), ref));
                        return Behaviors.same();
                    })
                    .onMessage(JobControl.LinkFault.class, m -> {
                        inject.accept(deviceRefs.get(m.device()), new Fault.LinkFault(m.extraLatencyMillis(), m.cutMillis()));
                        return Behaviors.same();
                    })
                    .onMessage(JobControl.PoisonDevice.class, m -> {
                        inject.accept(deviceRefs.get(m.device()), new Fault.Poison(m.scale()));
                        return Behaviors.same();
                    })
                    .onMessage(JobControl.SendMalformed.class, m -> {
                        ctx.getLog().warn("fault injection: sending {} as device {} in round {}", m.kind(), m.device(), m.round() + 1);
                        try {
                            m.kind().send(ctx.getSystem(), spec, job.model().config().hiddenSize(), m.device(), m.round(),
                                    shards.isEmpty() ? null : shards.get(plan.shardOf().getOrDefault(m.device(), 0)), coordinator,
                                    plan.initialDeviceAdapter() != null ? plan.initialDeviceAdapter() : null, m.seed());
                        } catch (IllegalArgumentException e) {
                            ctx.getLog().warn("fault injection: {} not sent: {}", m.kind(), e.getMessage());
                        }
                        return Behaviors.same();
                    })
                    .onSignal(Terminated.class, t -> t.getRef().equals(coordinator) ? Behaviors.stopped() : Behaviors.same())
                    .build();
        });
    }

    /**
     * Runs a prepared job in an ActorSystem of its own and completes with its result; the system
     * terminates when the job ends. {@code events} (may be null) is called from an actor thread.
     */
    public static RunningJob run(PreparedJob job, Config config, Consumer<JobEvent> events) {
        return run(job, config, events, null, false);
    }

    /** As above, with the rounds planned by {@code planner} (null: the job's {@code planning.policy}). */
    public static RunningJob run(PreparedJob job, Config config, Consumer<JobEvent> events, RoundPlanner planner) {
        return run(job, config, events, planner, false);
    }

    /**
     * As {@link #run(PreparedJob, Config, Consumer)}, with the fault decorator around every device
     * and shard, so that the {@link JobControl} faults (slow, crash, link fault, poison) take
     * effect: for churn runs and fault tests. A plain job has none, and says so of a fault sent to it.
     */
    public static RunningJob runWithFaults(PreparedJob job, Config config, Consumer<JobEvent> events) {
        return run(job, config, events, null, true);
    }

    /**
     * As {@link #run(PreparedJob, Config, Consumer)}, on {@code fleet}'s emulated time: every compute
     * step takes its device's or the server's time on the fleet, every message its link's, and every
     * timer fires at its emulated instant ({@link JobTime}); the round summaries' seconds are
     * emulated. The host still computes every tensor; the clock moves on only when nothing is at work.
     */
    public static RunningJob run(PreparedJob job, Config config, Consumer<JobEvent> events, Fleet fleet) {
        return run(job, config, events, null, false, fleet);
    }

    private static RunningJob run(PreparedJob job, Config config, Consumer<JobEvent> events, RoundPlanner planner, boolean faults) {
        return run(job, config, events, planner, faults, null);
    }

    private static RunningJob run(PreparedJob job, Config config, Consumer<JobEvent> events, RoundPlanner planner, boolean faults, Fleet fleet) {
        if (fleet != null && job.spec().uShape().enabled()) {
            throw new IllegalArgumentException("a fleet's emulated time does not price the U-shaped split's round trips yet; run it without a fleet "
                    + "or without privacy.u-shape");
        }
        CompletableFuture<JobResult> result = new CompletableFuture<>();
        CompletableFuture<ActorRef<JobControl>> control = new CompletableFuture<>();
        CompletableFuture<TensorExecutor.Observer> tensorWork = new CompletableFuture<>();
        Behavior<Void> root = Behaviors.setup(ctx -> {
            if (fleet != null) {
                JobTime time = JobTime.get(ctx.getSystem());
                time.install(fleet);
                EmulatedClock clock = time.clock();
                TensorExecutor.Observer counted = new TensorExecutor.Observer() {
                    @Override
                    public void queued() {
                        clock.enter();
                    }

                    @Override
                    public void ran() {
                        clock.exit();
                    }
                };
                TensorExecutor.shared().observe(counted); // the tensor thread's work holds the clock too
                tensorWork.complete(counted);
            }
            ActorRef<JobResult> reply = ctx.spawn(Callbacks.<JobResult>to(result::complete), "result");
            ActorRef<JobEvent> listener = events == null ? null : ctx.spawn(Callbacks.<JobEvent>to(events::accept), "events");
            JobCheckpoint resume;
            try {
                resume = latest(ctx.getSystem(), job.spec());
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                result.completeExceptionally(e); // no checkpoint to resume from: said as it is, not as a stopped system
                control.complete(ctx.getSystem().ignoreRef());
                return Behaviors.stopped();
            }
            ActorRef<JobControl> guardian = ctx.spawn(behavior(job, reply, listener, planner, system -> resume, faults), "job");
            if (fleet != null) {
                JobTime.get(ctx.getSystem()).clock().start(); // from here on, the job's work is what holds the clock
            }
            control.complete(guardian);
            ctx.watch(guardian);
            return Behaviors.receive(Void.class).onSignal(Terminated.class, t -> Behaviors.stopped()).build();
        });
        ActorSystem<Void> system = ActorSystem.create(root, "splitfed", fleet == null ? config : JobTime.emulatedSystem(config));
        system.getWhenTerminated().whenComplete((done, err) -> {
            tensorWork.thenAccept(TensorExecutor.shared()::unobserve);
            if (!result.isDone()) {
                result.completeExceptionally(new IllegalStateException("the job's actor system stopped before the job finished", err));
            }
        });
        result.whenComplete((r, e) -> system.terminate());
        return new RunningJob(control.join(), result, system.getWhenTerminated(), Outbox.get(system));
    }
}
