package io.splitfed.actors.aggregator;

import io.splitfed.actors.coordinator.RoundCoordinator;
import io.splitfed.actors.wire.ChunkPart;
import io.splitfed.actors.wire.Reassembler;
import io.splitfed.actors.wire.Wire;
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

    /** A piece of a message too large for one frame (cluster only); see {@link Wire}. */
    public record Part(ChunkPart chunk) implements Command {}

    /** Combine a round's updates; either list may be empty. */
    public record Aggregate(int round, List<WeightedUpdate> deviceUpdates, List<WeightedUpdate> serverReplicas,
            ActorRef<RoundCoordinator.Command> replyTo) implements Command {}

    public static Behavior<Command> create(AggregationStrategy strategy) {
        return Behaviors.setup(ctx -> new Aggregator(ctx, strategy));
    }

    private final Reassembler reassembler = new Reassembler(getContext().getSystem());
    private final AggregationStrategy strategy;

    private Aggregator(ActorContext<Command> context, AggregationStrategy strategy) {
        super(context);
        this.strategy = strategy;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Part.class, p -> reassembler.handle(p.chunk(), this, getContext()))
                .onMessage(Aggregate.class, this::onAggregate)
                .build();
    }

    private Behavior<Command> onAggregate(Aggregate m) {
        List<String> notes = new ArrayList<>();
        LoraAdapter device = combine("device", m.deviceUpdates(), notes);
        LoraAdapter server = combine("server", m.serverReplicas(), notes);
        Wire.tell(getContext().getSystem(), m.replyTo(), new RoundCoordinator.Aggregated(m.round(), device, server, notes), RoundCoordinator.Part::new);
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
