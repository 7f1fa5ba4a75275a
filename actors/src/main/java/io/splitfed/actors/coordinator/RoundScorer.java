package io.splitfed.actors.coordinator;

import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.aggregator.ServerStep;
import io.splitfed.actors.aggregator.WeightedUpdate;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.train.Evaluation;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.List;

/**
 * The coordinator's child for a closed round's aggregating and evaluating states: has the
 * aggregator combine the updates (unless too few devices finished), scores the new global
 * adapters on the held-out set on the tensor thread, and answers with both.
 */
final class RoundScorer {

    private RoundScorer() {}

    sealed interface Command extends NoSerializationVerificationNeeded {}

    /**
     * Score round {@code round}: aggregate {@code device} and {@code server} updates when
     * {@code aggregate}, over the globals {@code deviceGlobal} and {@code serverGlobal} (kept
     * where a side has nothing to combine). The device side's aggregate moves the global adapter
     * {@code deviceStep} times as far as the mean does ({@link ServerStep}; 1: FedAvg).
     */
    record Score(int round, List<WeightedUpdate> device, List<WeightedUpdate> server, boolean aggregate, LoraAdapter deviceGlobal,
            LoraAdapter serverGlobal, double deviceStep) implements Command {}

    /** The round's new globals, whether the server side changed, and their score (NaN when evaluation failed). */
    record Scored(int round, LoraAdapter deviceGlobal, LoraAdapter serverGlobal, boolean serverChanged, Evaluation.Result eval) {}

    private record FromAggregator(Aggregator.Result result) implements Command {}

    private record Evaluated(Scored scored) implements Command {}

    private static final Inbound.Adapter<Aggregator.Result, Command> RESULTS = Inbound.adapt(Aggregator.Result.class, FromAggregator::new);

    static Behavior<Command> create(ActorRef<Aggregator.Command> aggregator, CoordinatorSettings.Evaluator evaluator, ActorRef<Scored> replyTo) {
        return Inbound.receiving(Behaviors.setup(ctx -> {
            Outbox outbox = Outbox.get(ctx.getSystem());
            Score[] current = {null};
            return Behaviors.receive(Command.class)
                    .onMessage(Score.class, s -> {
                        current[0] = s;
                        if (s.aggregate()) {
                            outbox.send(aggregator, new Aggregator.Aggregate(s.round(), s.device(), s.server(), RESULTS.replyTo(ctx.getSelf())));
                        } else {
                            outbox.send(ctx.getSelf(), new FromAggregator(new Aggregator.Result(s.round(), null, null, List.of("too few devices"))));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(FromAggregator.class, m -> {
                        Score s = current[0];
                        if (s == null || m.result().round() != s.round()) {
                            return Behaviors.same();
                        }
                        LoraAdapter dev = m.result().deviceGlobal() != null ? ServerStep.apply(s.deviceGlobal(), m.result().deviceGlobal(), s.deviceStep())
                                : s.deviceGlobal();
                        LoraAdapter srv = m.result().serverGlobal() != null ? m.result().serverGlobal() : s.serverGlobal();
                        boolean serverChanged = m.result().serverGlobal() != null;
                        ctx.pipeToSelf(TensorExecutor.shared().submit(() -> evaluator.evaluate(dev, srv)), (ok, err) -> {
                            if (err != null) {
                                ctx.getLog().error("round {}: evaluation failed", s.round() + 1, err);
                            }
                            Evaluation.Result eval = ok != null ? ok : new Evaluation.Result(Double.NaN, Double.NaN, 0);
                            return new Evaluated(new Scored(s.round(), dev, srv, serverChanged, eval));
                        });
                        return Behaviors.same();
                    })
                    .onMessage(Evaluated.class, m -> {
                        outbox.send(replyTo, m.scored());
                        return Behaviors.same();
                    })
                    .build();
        }), RESULTS);
    }
}
