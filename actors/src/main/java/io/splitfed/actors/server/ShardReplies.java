package io.splitfed.actors.server;

import io.splitfed.actors.link.Links;
import io.splitfed.actors.metrics.JobClock;
import io.splitfed.actors.server.ServerShard.Credit;
import io.splitfed.actors.server.ServerShard.CutGradient;
import io.splitfed.actors.server.ServerShard.Forward;
import io.splitfed.actors.server.ServerShard.Rejected;
import io.splitfed.actors.server.ServerShard.Reply;
import io.splitfed.actors.server.ServerShard.ServerOutput;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.tensor.TensorPayload;

import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * How a shard answers a device: a credit, a cut gradient, the U-shape's server output, or a refusal with its reason. Answers go
 * down the device's link through the job's {@link Links}: at once, or, on simulated links, when
 * the downlink would have carried them. A resent micro-batch is answered again from what the shard
 * kept, never trained twice.
 */
final class ShardReplies {

    private final ShardState state;
    private final Outbox outbox;
    private final Links links;
    private final org.slf4j.Logger log;
    private final Executor dispatcher;

    /** {@code log} and every method but the one {@link #gradients} returns belong to the shard's actor thread. */
    ShardReplies(ShardState state, Outbox outbox, Links links, org.slf4j.Logger log, Executor dispatcher) {
        this.state = state;
        this.outbox = outbox;
        this.links = links;
        this.log = log;
        this.dispatcher = dispatcher;
    }

    /** SplitFrozen's answer to a trained micro-batch. */
    void credit(Forward f, long now) {
        send(f, new Credit(f.round(), f.seq(), now), 16);
    }

    /** The U-shape: the output of the server's blocks for {@code f}, for its device's tail and head. */
    void output(Forward f, TensorPayload output) {
        send(f, new ServerOutput(f.round(), f.seq(), output, JobClock.micros()), output.wireBytes());
    }

    /** Refuses {@code f}, saying why, and counts it in the round's report. */
    void reject(Forward f, String reason) {
        String line = "device " + f.device() + " micro-batch " + f.seq() + " (round " + f.round() + ") rejected: " + reason;
        log.warn(line);
        state.rejected.add(line);
        outbox.send(f.replyTo(), new Rejected(f.round(), f.seq(), reason));
    }

    /** A micro-batch seen before: answered again, never trained twice. */
    void again(Forward f) {
        if (state.settings.sendsCutGradients()) {
            TensorPayload g = state.recentGradients.getOrDefault(f.device(), Map.of()).get(f.seq());
            if (g != null) {
                send(f, new CutGradient(f.round(), f.seq(), g, JobClock.micros()), g.wireBytes());
            } else if (state.awaiting != null && state.awaiting.isFor(f.device(), f.seq())) {
                output(f, state.awaiting.output()); // a U-shaped SFL step waits for the device's gradient at its output
            }
            // otherwise the step is still running and its gradient will be sent when it ends
        } else if (state.trained(f.device()).contains(f.seq())) {
            credit(f, JobClock.micros());
        } else if (state.awaiting != null && state.awaiting.isFor(f.device(), f.seq())) {
            output(f, state.awaiting.output()); // the U-shape's output may have been lost: the device answers it again
        }
    }

    /**
     * Sends {@code f}'s cut gradient from the tensor thread the moment it exists, before the weight
     * pass: handed off the tensor thread (a cluster's send serializes it) and down the link.
     */
    Consumer<TensorPayload> gradients(Forward f) {
        return g -> {
            CutGradient msg = new CutGradient(f.round(), f.seq(), g, JobClock.micros());
            dispatcher.execute(() -> links.down(f.device(), f.replyTo(), msg, g.wireBytes()));
        };
    }

    private void send(Forward f, Reply msg, long bytes) {
        links.down(f.device(), f.replyTo(), msg, bytes);
    }
}
