package io.splitfed.actors.device;

import io.splitfed.actors.wire.Outbox;
import io.splitfed.actors.checkpoint.DeviceSnapshot;
import io.splitfed.actors.job.Supervision;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.plan.DevicePlan;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.WireMessage;
import io.splitfed.model.lora.LoraAdapter;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.function.UnaryOperator;

/**
 * An edge device's protocol, and its factory. A device holds its data shard and its part of the
 * model; the coordinator starts its rounds, and it reports back in {@link Report}s. How it trains
 * depends on the mode: {@link SplitDevice} streams cut activations to a server worker (SplitFrozen,
 * SFL); {@link LocalTrainer} trains the whole model in place (FedLoRA, centralized).
 */
public final class DeviceActor {

    private DeviceActor() {}

    /** What a device understands. */
    public sealed interface Command extends WireMessage {}

    /**
     * Run {@code steps} micro-batches of {@code round} as {@code plan} says, starting from
     * {@code global} (null: keep yours); report the round to {@code coordinator}, and each answered
     * micro-batch to {@code progress} (null: nobody watches).
     */
    public record StartRound(int round, int steps, LoraAdapter global, ActorRef<ServerShard.Command> shard,
            ActorRef<Report> coordinator, ActorRef<Report> progress, DevicePlan plan) implements Command, Outbox.Bulk {}

    /**
     * Its shard lost {@code round}'s work: run that round again from its first micro-batch, toward
     * {@code shard}, from {@code global} (null: keep yours); {@code evenIfDone}: also when the device
     * has finished it (the coordinator takes its result back).
     */
    public record Rewind(int round, ActorRef<ServerShard.Command> shard, LoraAdapter global, boolean evenIfDone) implements Command, Outbox.Bulk {}

    /**
     * Measure how fast this device computes, and tell {@code replyTo}, with the padded length of
     * the {@code steps} micro-batches it will run next.
     */
    public record Profile(int steps, ActorRef<Report> replyTo) implements Command {}

    /**
     * Before the first round of a resumed job, or from a job host that took over from a lost one:
     * go on from {@code snapshot}, dropping any round in progress.
     */
    public record Resume(DeviceSnapshot snapshot) implements Command, Outbox.Bulk {}

    /** Between rounds: reply with what this device must keep across a restart, for the job's checkpoint. */
    public record TakeCheckpoint(int roundsDone, ActorRef<Report> replyTo) implements Command {}

    /** The round closed without this device (deadline): stop and drop what is in flight. */
    public record AbortRound(int round) implements Command {}

    /** What a device reports to the job's coordinator. */
    public sealed interface Report extends WireMessage {}

    /**
     * A micro-batch was answered (for progress reporting): the device's round so far, the bytes it
     * sent and received this round, its micro-batches in flight, and the loss of its last local
     * step (NaN where the server computes the loss).
     */
    public record Progress(int device, int round, int answered, int steps, int samples, long bytesUp, long bytesDown, int inFlight,
            float loss) implements Report {}

    /**
     * The device finished its round; {@code update} is its adapter (null in SplitFrozen), {@code from}
     * the device's actor (the coordinator refuses a result from any other).
     */
    public record RoundDone(int device, int round, DeviceRoundStats stats, LoraAdapter update, ActorRef<Command> from) implements Report, Outbox.Bulk {}

    /** The device's compute profile, answering {@link Profile}. */
    public record Profiled(DeviceProfile profile) implements Report {}

    /** The device's snapshot for the checkpoint after {@code roundsDone} rounds, answering {@link TakeCheckpoint}. */
    public record Checkpointed(int roundsDone, DeviceSnapshot snapshot) implements Report, Outbox.Bulk {}

    /** The device's own messages, which never leave its JVM (so they are no wire classes). */
    non-sealed interface Internal extends Command, NoSerializationVerificationNeeded {}

    /**
     * A device of {@code state}'s mode: {@link SplitDevice} in SplitFrozen and SFL, {@link LocalTrainer}
     * in FedLoRA and centralized. Restarts on failure; {@code state} survives the restart.
     */
    /** The shard's replies (credits, cut gradients, rejections), as a device takes them. */
    static final Inbound.Adapter<ServerShard.Reply, Command> SHARD_REPLIES = Inbound.adapt(ServerShard.Reply.class, SplitDevice.FromShard::new);

    public static Behavior<Command> create(DeviceState state) {
        return create(state, b -> b);
    }

    /** As {@link #create(DeviceState)}, with {@code inside} wrapped around the behavior within its supervisor (fault injection). */
    public static Behavior<Command> create(DeviceState state, UnaryOperator<Behavior<Command>> inside) {
        boolean split = state.settings.mode().isSplit();
        Behavior<Command> device = Behaviors.setup(ctx -> Behaviors.<Command>withTimers(timers ->
                split ? new SplitDevice(ctx, timers, state) : new LocalTrainer(ctx, timers, state)));
        return Inbound.receiving(Behaviors.supervise(inside.apply(device)).onFailure(Supervision.BACKOFF),
                SHARD_REPLIES);
    }
}
