package io.splitfed.actors.coordinator;

import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.server.ShardStore;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.WireMessage;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;


/**
 * Runs the rounds, as a state machine: profiling (every device times itself), running (devices
 * train; the round closes when all sampled have answered or at its deadline), closing (the shards
 * report), aggregating, evaluating, and checkpointing before the next round. Its bookkeeping lives
 * in {@link RoundLedger}, {@link LateWork}, {@link Quarantine} and {@link UpdateCheck}; a child
 * {@link CheckpointCollector} takes the checkpoints. Replies come in the repliers' own protocols.
 */
public final class RoundCoordinator {

    private RoundCoordinator() {}

    /** What the coordinator understands. */
    public sealed interface Command extends WireMessage {}

    /** The coordinator's own messages, which never leave its JVM (so they are no wire classes). */
    non-sealed interface Internal extends Command, NoSerializationVerificationNeeded {}

    /** Begin the first round. */
    public enum Start implements Command { INSTANCE }

    /**
     * Shard {@code shard} lost its node and runs again as {@code ref}, from the state it had when
     * the round began: its devices run the round again, so everything they send is trained once.
     */
    public record ShardReplaced(int shard, ActorRef<ServerShard.Command> ref) implements Command {}

    /** A stopped device is back (with its state); it is sampled again from the next round. */
    public record DeviceRejoined(int device, ActorRef<DeviceActor.Command> ref) implements Command {}

    record FromDevice(DeviceActor.Report report) implements Internal {}

    record FromShard(ServerShard.Report report) implements Internal {}

    record Scored(RoundScorer.Scored scored) implements Internal {}

    record ShardLost(ShardStore.Lost lost) implements Internal {}

    record CloseDue(int round) implements Internal {}

    record FromCollector(CheckpointCollector.Reply reply) implements Internal {}

    record DeviceTerminated(int device, ActorRef<DeviceActor.Command> ref) implements Internal {}

    enum ProfilesDue implements Internal { INSTANCE }

    record Deadline(int round) implements Internal {}

    record WaitOver(int round) implements Internal {}

    /** Messages held while the devices profile themselves (a rejoin, a replaced shard). */
    static final int STASH = 10_000;

    /** The devices' reports, as the coordinator takes them. */
    public static final Inbound.Adapter<DeviceActor.Report, Command> DEVICE_REPORTS = Inbound.adapt(DeviceActor.Report.class, FromDevice::new);

    /** The shards' reports, as the coordinator takes them. */
    public static final Inbound.Adapter<ServerShard.Report, Command> SHARD_REPORTS = Inbound.adapt(ServerShard.Report.class, FromShard::new);

    /** The shard store's word that a shard's node was lost. */
    public static final Inbound.Adapter<ShardStore.Lost, Command> LOST_SHARDS = Inbound.adapt(ShardStore.Lost.class, ShardLost::new);

    public static Behavior<Command> create(CoordinatorSettings settings) {
        return Inbound.receiving(Behaviors.setup(ctx -> Behaviors.withTimers(timers -> Behaviors.withStash(STASH, stash ->
                        new Profiling(ctx, timers, stash, settings)))),
                DEVICE_REPORTS, SHARD_REPORTS, LOST_SHARDS);
    }
}
