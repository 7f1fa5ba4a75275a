package io.splitfed.actors.aggregator;

import io.splitfed.actors.wire.Outbox;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.WireMessage;
import io.splitfed.model.lora.LoraAdapter;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The federated server: combines the round's device adapters (weighted by samples) and, when
 * several server replicas trained, their adapters too. Works on heap adapters only.
 */
public final class Aggregator extends AbstractBehavior<Aggregator.Command> {

    /** What the aggregator understands. */
    public sealed interface Command extends WireMessage {}

    /** Combine a round's updates; either list may be empty. */
    public record Aggregate(int round, List<WeightedUpdate> deviceUpdates, List<WeightedUpdate> serverReplicas,
            ActorRef<Result> replyTo) implements Command, Outbox.Bulk {}

    /** The answer to {@link Aggregate}; a null side had nothing to combine. */
    public record Result(int round, LoraAdapter deviceGlobal, LoraAdapter serverGlobal, List<String> notes) implements WireMessage, Outbox.Bulk {}

    public static Behavior<Command> create(AggregationStrategy strategy) {
        return Inbound.receiving(Behaviors.setup(ctx -> new Aggregator(ctx, strategy)));
    }

    private final AggregationStrategy strategy;
    private final Outbox outbox;

    private Aggregator(ActorContext<Command> context, AggregationStrategy strategy) {
        super(context);
        this.outbox = Outbox.get(context.getSystem());
        this.strategy = strategy;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Aggregate.class, this::onAggregate)
                .build();
    }

    private Behavior<Command> onAggregate(Aggregate m) {
        List<String> notes = new ArrayList<>();
        LoraAdapter device = combine("device", m.deviceUpdates(), notes);
        LoraAdapter server = combine("server", m.serverReplicas(), notes);
        outbox.send(m.replyTo(), new Result(m.round(), device, server, notes));
        return this;
    }

    private LoraAdapter combine(String side, List<WeightedUpdate> updates, List<String> notes) {
        List<WeightedUpdate> usable = new ArrayList<>();
        for (WeightedUpdate u : updates) {
            if (u.weight() <= 0) {
                continue;
            }
            if (!u.adapter().allFinite()) {
                String note = side + " update from " + u.source() + " has NaN or Inf values and was left out";
                getContext().getLog().warn(note);
                notes.add(note);
                continue;
            }
            usable.add(u);
        }
        // in a fixed order, so the sums do not depend on which update arrived first
        usable.sort(Comparator.comparingInt(WeightedUpdate::source));
        return usable.isEmpty() ? null : strategy.aggregate(usable);
    }
}
