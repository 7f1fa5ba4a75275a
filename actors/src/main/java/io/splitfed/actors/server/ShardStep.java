package io.splitfed.actors.server;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.SegmentLearner;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * One training step of a shard's server blocks, on the tensor thread: the rows a {@link ShardQueue}
 * chose, through the learner of the step's first device (its own replica, or the shared one).
 */
final class ShardStep {

    /** What a step did: its loss (NaN in the U-shape, whose loss is the device's), time and work, and in SFL the cut gradient it returned. */
    record Result(float loss, double seconds, double flops, long gradientBytes, TensorPayload gradient) {}

    /**
     * The U-shape's first half of a step: the server blocks' forward, its graph kept until the
     * device's gradient at their {@code output} comes back.
     */
    record Middle(ServerShard.Step step, SegmentLearner.InFlight graph, TensorPayload output, double seconds, double flops) {

        /** Whether this step waits for {@code device}'s micro-batch {@code seq}. */
        boolean isFor(int device, long seq) {
            ServerShard.Forward f = step.first().forward;
            return f.device() == device && f.seq() == seq;
        }
    }

    private ShardStep() {}

    /** The U-shape: the forward of the server's blocks on {@code rows}, on the tensor thread. */
    static CompletableFuture<Middle> forwardMiddle(ShardState state, MixedBatch rows, ServerShard.Step step) {
        ServerShard.Forward first = step.first().forward;
        SegmentLearner learner = state.learnerFor(first.device());
        TensorPayload.Encoding downlink = state.settings.spec().pipeline().downlink();
        TokenBatch batch = rows.batch();
        TensorPayload activations = rows.activations();
        int blocks = state.settings.uShape().end() - first.splitPoint();
        boolean cutGradient = state.settings.sendsCutGradients(); // SFL: the device's blocks before the cut train on it
        double flops = 2.0 * blocks * state.settings.model().config().blockFlops(batch.batch(), batch.seqLen());
        return TensorExecutor.shared().submit(() -> {
            long t0 = System.nanoTime();
            SegmentLearner.InFlight graph = learner.forward(batch, activations, downlink, cutGradient);
            return new Middle(step, graph, graph.activations(), (System.nanoTime() - t0) / 1e9, flops);
        });
    }

    /**
     * The U-shape's second half: the device's {@code gradient} back through the server's blocks, and
     * the optimizer's step. In SFL ({@code onGradient} given) the gradient at the server's input, the
     * cut gradient, goes to {@code onGradient} on the tensor thread before the step, encoded for the
     * downlink.
     */
    static CompletableFuture<Result> backwardMiddle(ShardState state, Middle m, TensorPayload gradient, Consumer<TensorPayload> onGradient) {
        TensorPayload.Encoding downlink = state.settings.spec().pipeline().downlink();
        return TensorExecutor.shared().submit(() -> {
            long t0 = System.nanoTime();
            AtomicReference<TensorPayload> cut = new AtomicReference<>();
            if (onGradient == null) {
                m.graph().backward(gradient);
            } else {
                m.graph().backward(gradient, g -> {
                    cut.set(g);
                    onGradient.accept(g);
                }, downlink);
            }
            TensorPayload g = cut.get();
            return new Result(Float.NaN, m.seconds() + (System.nanoTime() - t0) / 1e9, m.flops(), g == null ? 0 : g.wireBytes(), g);
        });
    }

    /**
     * Submits the step to the tensor thread. In SFL {@code onGradient} gets the cut gradient on the
     * tensor thread the moment the input-gradient pass made it, before the weight pass; null in
     * SplitFrozen, which returns none.
     */
    static CompletableFuture<Result> submit(ShardState state, MixedBatch rows, ServerShard.Forward first, Consumer<TensorPayload> onGradient) {
        SegmentLearner learner = state.learnerFor(first.device());
        TensorPayload.Encoding downlink = state.settings.spec().pipeline().downlink();
        TokenBatch batch = rows.batch();
        TensorPayload activations = rows.activations();
        double flops = flops(state, first.splitPoint(), batch);
        return TensorExecutor.shared().submit(() -> {
            long t0 = System.nanoTime();
            AtomicReference<TensorPayload> gradient = new AtomicReference<>();
            SegmentLearner.StepResult r = learner.trainStep(first.splitPoint(), batch, activations, onGradient == null ? null : g -> {
                gradient.set(g);
                onGradient.accept(g);
            }, downlink);
            TensorPayload g = gradient.get();
            return new Result(r.loss(), (System.nanoTime() - t0) / 1e9, flops, g == null ? 0 : g.wireBytes(), g);
        });
    }

    /** Forward plus backward of the server blocks: two forwards' worth, as the base is frozen. */
    private static double flops(ShardState state, int splitPoint, TokenBatch batch) {
        var c = state.settings.model().config();
        int blocks = c.numLayers() - splitPoint;
        return 2.0 * blocks * c.blockFlops(batch.batch(), batch.seqLen());
    }
}
