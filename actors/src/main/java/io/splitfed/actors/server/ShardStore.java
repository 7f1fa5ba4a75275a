package io.splitfed.actors.server;

import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.Wire;
import io.splitfed.actors.wire.WireMessage;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.HashMap;
import java.util.Map;

/**
 * Keeps the latest hand-off snapshot of each server shard, so that a shard moved by a rebalance
 * resumes where it stopped. In a cluster it runs as a singleton beside the job host.
 */
public final class ShardStore {

    private ShardStore() {}

    public sealed interface Command extends WireMessage {}

    /** Keep {@code snapshot}; answered with {@link Saved}. */
    public record Save(ShardSnapshot snapshot, ActorRef<Reply> replyTo) implements Command {}

    /** Keep {@code snapshot} as the one its shard starts from (a resumed job's checkpoint); no answer. */
    public record Keep(ShardSnapshot snapshot) implements Command {}

    /** The snapshot of {@code shard}, if any; answered with {@link Restored}. */
    public record Load(int shard, ActorRef<Reply> replyTo) implements Command {}

    /** What the store answers a shard with. */
    public sealed interface Reply extends WireMessage {}

    /** The store kept the shard's snapshot: the hand-off is complete. */
    public record Saved(int shard) implements Reply {}

    /** The snapshot a previous incarnation left, or null: the answer to {@link Load}. */
    public record Restored(ShardSnapshot snapshot) implements Reply {}

    public static Behavior<Command> create() {
        return Inbound.receiving(Behaviors.setup(Store::new));
    }

    private static final class Store extends AbstractBehavior<Command> {

        private final Map<Integer, ShardSnapshot> snapshots = new HashMap<>();

        Store(ActorContext<Command> context) {
            super(context);
        }

        @Override
        public Receive<Command> createReceive() {
            return newReceiveBuilder()
                    .onMessage(Save.class, m -> {
                        snapshots.put(m.snapshot().shard(), m.snapshot());
                        getContext().getLog().info("shard {} handed off in round {} after {} steps", m.snapshot().shard(), m.snapshot().round(),
                                m.snapshot().stepsTotal());
                        m.replyTo().tell(new Saved(m.snapshot().shard()));
                        return this;
                    })
                    .onMessage(Keep.class, m -> {
                        snapshots.put(m.snapshot().shard(), m.snapshot());
                        return this;
                    })
                    .onMessage(Load.class, m -> {
                        Wire.tell(getContext().getSystem(), m.replyTo(), new Restored(snapshots.get(m.shard())));
                        return this;
                    })
                    .build();
        }
    }
}
