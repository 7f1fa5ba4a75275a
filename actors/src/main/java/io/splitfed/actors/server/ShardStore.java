package io.splitfed.actors.server;

import io.splitfed.actors.wire.Outbox;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.WireMessage;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps the latest snapshot of each server shard off the shard's node, so that a shard that moves
 * or loses its node goes on from it. In a cluster it runs as a singleton beside the job host. Three
 * kinds come in: a hand-off (a rebalance moved the shard: it resumes where it stopped), a
 * round-start snapshot (taken at every round's start: a shard whose node died goes on from the
 * round's start), and a resumed job's checkpoint. The newest wins. A shard that starts from a
 * round-start snapshot lost its round's work: the store tells whoever watches (the coordinator),
 * which has the shard's devices run the round again.
 */
public final class ShardStore {

    private ShardStore() {}

    public sealed interface Command extends WireMessage {}

    /** Keep {@code snapshot}, a hand-off; answered with {@link Saved}. */
    public record Save(ShardSnapshot snapshot, ActorRef<Reply> replyTo) implements Command, Outbox.Bulk {}

    /** Keep {@code snapshot} as the one its shard starts from (a resumed job's checkpoint); no answer. */
    public record Keep(ShardSnapshot snapshot) implements Command, Outbox.Bulk {}

    /** Keep {@code snapshot}, the shard's state at the start of its round; no answer. */
    public record Boundary(ShardSnapshot snapshot) implements Command, Outbox.Bulk {}

    /** The snapshot of {@code shard}, if any; answered with {@link Restored}. */
    public record Load(int shard, ActorRef<Reply> replyTo) implements Command {}

    /** Tell {@code replyTo} of every shard that starts again from a round-start snapshot. */
    public record Watch(ActorRef<Lost> replyTo) implements Command {}

    /** What the store answers a shard with. */
    public sealed interface Reply extends WireMessage {}

    /** The store kept the shard's snapshot: the hand-off is complete. */
    public record Saved(int shard) implements Reply {}

    /**
     * The snapshot a previous incarnation left, or null: the answer to {@link Load}.
     * {@code roundLost}: it is a round-start snapshot, so the round's work since is gone.
     */
    public record Restored(ShardSnapshot snapshot, boolean roundLost) implements Reply, Outbox.Bulk {}

    /** Shard {@code shard} started again from the start of {@code round}: its node died mid-round. */
    public record Lost(int shard, int round) implements WireMessage {}

    public static Behavior<Command> create() {
        return Inbound.receiving(Behaviors.setup(Store::new));
    }

    private static final class Store extends AbstractBehavior<Command> {

        private record Kept(ShardSnapshot snapshot, boolean boundary) {}

        private final Map<Integer, Kept> snapshots = new HashMap<>();
        private final List<ActorRef<Lost>> watchers = new ArrayList<>();
        private final Outbox outbox;

        Store(ActorContext<Command> context) {
            super(context);
            this.outbox = Outbox.get(context.getSystem());
        }

        @Override
        public Receive<Command> createReceive() {
            return newReceiveBuilder()
                    .onMessage(Save.class, m -> {
                        keep(m.snapshot(), false);
                        getContext().getLog().info("shard {} handed off in round {} after {} steps", m.snapshot().shard(), m.snapshot().round(),
                                m.snapshot().stepsTotal());
                        outbox.send(m.replyTo(), new Saved(m.snapshot().shard()));
                        return this;
                    })
                    .onMessage(Keep.class, m -> {
                        snapshots.put(m.snapshot().shard(), new Kept(m.snapshot(), false));
                        return this;
                    })
                    .onMessage(Boundary.class, m -> {
                        keep(m.snapshot(), true);
                        return this;
                    })
                    .onMessage(Watch.class, m -> {
                        watchers.add(m.replyTo());
                        return this;
                    })
                    .onMessage(Load.class, m -> {
                        Kept k = snapshots.get(m.shard());
                        boolean lost = k != null && k.boundary();
                        outbox.send(m.replyTo(), new Restored(k == null ? null : k.snapshot(), lost));
                        if (lost) {
                            getContext().getLog().warn("shard {} starts again from the start of round {}: its node was lost", m.shard(),
                                    k.snapshot().round() + 1);
                            watchers.forEach(w -> outbox.send(w, new Lost(m.shard(), k.snapshot().round())));
                        }
                        return this;
                    })
                    .build();
        }

        /** The newest snapshot of a shard wins: a later round, or more steps in the same round. */
        private void keep(ShardSnapshot s, boolean boundary) {
            Kept old = snapshots.get(s.shard());
            if (old == null || s.round() > old.snapshot().round()
                    || s.round() == old.snapshot().round() && s.stepsTotal() >= old.snapshot().stepsTotal()) {
                snapshots.put(s.shard(), new Kept(s, boundary));
            }
        }
    }
}
