package io.splitfed.actors.server;

import io.splitfed.actors.wire.Outbox;
import io.splitfed.actors.job.Supervision;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.WireMessage;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.TensorPayload;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;

import java.util.Map;

/**
 * A server shard's protocol, and its factory: one server-side LoRA worker ({@link LoraWorker}) per
 * shard, which trains the server part on the devices' cut activations and answers each micro-batch
 * in its {@link Reply}; it reports rounds to the coordinator in its {@link Report}s. In a cluster,
 * each shard is a Cluster Sharding entity of its own, and a moved shard resumes from the snapshot
 * it left in the {@link ShardStore}.
 */
public final class ServerShard {

    private ServerShard() {}

    /** What a shard understands. */
    public sealed interface Command extends WireMessage {}

    /**
     * A device's micro-batch: labels and lengths (no token ids) and the cut activations.
     * {@code roundSteps} is how many micro-batches the device runs this round, so the shard can
     * keep every device's progress in step.
     */
    public record Forward(int device, int splitPoint, int round, long seq, int roundSteps, TokenBatch batch, TensorPayload activations,
            long sentMicros, ActorRef<Reply> replyTo) implements Command, Outbox.Bulk {
        @Override
        public long bulkBytes() {
            // the activations, and the batch's token arrays (ids, targets, mask, types: 4 bytes a token each)
            return activations.wireBytes() + 16L * batch.batch() * batch.seqLen();
        }
    }

    /**
     * The U-shaped split: device {@code device}'s gradient of its loss with respect to
     * {@link ServerOutput} {@code seq}, which the shard back-propagates through its blocks before it
     * credits the micro-batch.
     */
    public record OutputGradient(int device, int round, long seq, TensorPayload gradient) implements Command, Outbox.Bulk {
        @Override
        public long bulkBytes() {
            return gradient.wireBytes();
        }
    }

    /** Micro-batches of {@code round} are now accepted. */
    public record RoundStarted(int round) implements Command {}

    /** Stop accepting {@code round}; report it, with the adapters, once the step in progress ends. */
    public record CloseRound(int round, ActorRef<Report> replyTo) implements Command {}

    /** Replace every replica's adapter with the round's aggregate. */
    public record LoadAdapter(int round, LoraAdapter adapter) implements Command, Outbox.Bulk {}

    /** Between rounds: reply with a snapshot of this shard for the job's checkpoint. */
    public record TakeCheckpoint(int roundsDone, ActorRef<Report> replyTo) implements Command {}

    /**
     * A job host that took over from a lost one, resuming from a checkpoint: go back to the shard's
     * state in it. What the shard trained since is dropped (after the step in progress ends); the
     * devices, taken back to the same checkpoint, send it again.
     */
    public record Reset(ShardSnapshot snapshot) implements Command, Outbox.Bulk {}

    /** Cluster Sharding's stop message: finish the step in progress, save a snapshot, stop. */
    public record HandOff() implements Command {}

    /** Asks for the shard's load now (queued micro-batches, steps, last loss), for live metrics. */
    public record ReportLoad(ActorRef<Report> replyTo) implements Command {}

    /** What a shard answers a device's micro-batch with. */
    public sealed interface Reply extends WireMessage {}

    /** SplitFrozen's answer: micro-batch {@code seq} was trained; one more may be sent. */
    public record Credit(int round, long seq, long sentMicros) implements Reply {}

    /** SFL's answer: the gradient of the loss with respect to micro-batch {@code seq}'s activations. */
    public record CutGradient(int round, long seq, TensorPayload gradient, long sentMicros) implements Reply, Outbox.Bulk {
        @Override
        public long bulkBytes() {
            return gradient.wireBytes();
        }
    }

    /**
     * The U-shaped split's first answer: the output of the server's blocks for micro-batch
     * {@code seq}, for the device's tail and head. The device answers with an {@link OutputGradient};
     * the {@link Credit} follows once the shard has stepped.
     */
    public record ServerOutput(int round, long seq, TensorPayload output, long sentMicros) implements Reply, Outbox.Bulk {
        @Override
        public long bulkBytes() {
            return output.wireBytes();
        }
    }

    /** The shard refused micro-batch {@code seq}. */
    public record Rejected(int round, long seq, String reason) implements Reply {}

    /** What a shard reports to the job's coordinator. */
    public sealed interface Report extends WireMessage {}

    /** The report of a closed round, with the shard's adapter replicas and their sample weights. */
    public record Closed(ShardRoundReport report, Map<Integer, LoraAdapter> replicas, Map<Integer, Double> weights) implements Report, Outbox.Bulk {}

    /** The shard's snapshot for the checkpoint after {@code roundsDone} rounds. */
    public record Checkpointed(int roundsDone, ShardSnapshot snapshot) implements Report, Outbox.Bulk {}

    /** The shard's load, answering {@link ReportLoad}. */
    public record Load(int shard, int queued, long steps, float loss) implements Report {}

    /** A worker's own messages, which never leave its JVM (so they are no wire classes). */
    non-sealed interface Internal extends Command, NoSerializationVerificationNeeded {}

    /** The store's answer, adapted. */
    record Stored(ShardStore.Reply reply) implements Internal {}

    /** One optimizer step's rows: how many it takes from each queued micro-batch. */
    record Step(Map<QueuedMicroBatch, Integer> taken, int rows) {

        QueuedMicroBatch first() {
            return taken.keySet().iterator().next();
        }
    }

    /** The shard store's replies, as a shard takes them. */
    static final Inbound.Adapter<ShardStore.Reply, Command> STORE_REPLIES = Inbound.adapt(ShardStore.Reply.class, Stored::new);

    /** Restarts on failure; {@code state} survives the restart. */
    public static Behavior<Command> create(ShardState state) {
        return create(state, b -> b);
    }

    /** As {@link #create(ShardState)}, with {@code inside} wrapped around the behavior within its supervisor (fault injection). */
    public static Behavior<Command> create(ShardState state, java.util.function.UnaryOperator<Behavior<Command>> inside) {
        Behavior<Command> shard = Behaviors.setup(ctx -> state.store == null || state.restored ? new LoraWorker(ctx, state) : restoring(ctx, state));
        return Inbound.receiving(Behaviors.supervise(inside.apply(shard)).onFailure(Supervision.BACKOFF),
                STORE_REPLIES);
    }

    /** A shard with a store first asks it for the snapshot a previous incarnation left, holding everything else. */
    private static Behavior<Command> restoring(ActorContext<Command> ctx, ShardState state) {
        return Behaviors.withStash(100_000, stash -> {
            Outbox.get(ctx.getSystem()).send(state.store, new ShardStore.Load(state.settings.shard(), STORE_REPLIES.replyTo(ctx.getSelf())));
            return Behaviors.receive(Command.class)
                    .onMessage(Stored.class, s -> s.reply() instanceof ShardStore.Restored r ? restored(ctx, state, stash, r) : Behaviors.same())
                    .onAnyMessage(m -> {
                        stash.stash(m);
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    private static Behavior<Command> restored(ActorContext<Command> ctx, ShardState state, StashBuffer<Command> stash, ShardStore.Restored r) {
        if (r.snapshot() != null) {
            state.restore(r.snapshot());
            state.awaitingRewind = r.roundLost();
            ctx.getLog().info("shard {} resumed from {} in round {} after {} steps", state.settings.shard(),
                    r.roundLost() ? "the start of its round (its node was lost)" : "its hand-off", state.round + 1, state.stepsTotal);
        }
        state.restored = true;
        return stash.unstashAll(new LoraWorker(ctx, state));
    }
}
