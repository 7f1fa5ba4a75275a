package io.splitfed.actors.device;

import io.splitfed.actors.job.TrainingMode;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.privacy.CutNoise;
import io.splitfed.model.privacy.GradientNoise;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.SegmentLearner;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A split device's work on the tensor thread: the forward through its blocks (frozen in
 * SplitFrozen; keeping the graph for the cut gradient in SFL) and, in SFL, the backward of a
 * returned cut gradient through that graph. Each result comes back to the device as a message.
 */
final class DeviceStep {

    /** A micro-batch's activations at the cut, computed (or, {@code cached}, taken from the activation cache). */
    record Computed(int round, long seq, TokenBatch batch, TensorPayload activations, SegmentLearner.InFlight graph,
            double seconds, double flops, boolean cached) implements DeviceActor.Internal {}

    /** SFL: a micro-batch's cut gradient went back through the device's blocks, and its adapter stepped. */
    record Backpropagated(int round, long seq, int samples, double seconds, double flops) implements DeviceActor.Internal {}

    /** The U-shape: the device's tail and head trained on the server's output for {@code seq}; {@code gradient} goes back. */
    record TailTrained(int round, long seq, TensorPayload gradient, float loss, double seconds, double flops) implements DeviceActor.Internal {}

    private DeviceStep() {}

    /**
     * The U-shape: the device's tail blocks and head on the server's {@code output} for {@code batch}
     * (labels included), one optimizer step, and the gradient at that output, defended by
     * {@code privacy.u-shape}'s label noise drawn from the device's secret, on the tensor thread.
     */
    static CompletableFuture<TailTrained> tail(DeviceState state, long seq, TokenBatch batch, TensorPayload output, double flops) {
        int round = state.round;
        SegmentLearner learner = state.tailLearner;
        TensorPayload.Encoding uplink = state.uplinkEncoding;
        GradientNoise noise = state.settings.spec().uShape().noise();
        long[] seeds = CutNoise.rowSeeds(state.noiseSalt ^ 0x7A11L, batch.sampleIds());
        return TensorExecutor.shared().submit(() -> {
            long t0 = System.nanoTime();
            AtomicReference<TensorPayload> back = new AtomicReference<>();
            SegmentLearner.StepResult r = learner.trainStep(batch, output, back::set, uplink);
            return new TailTrained(round, seq, noise.apply(back.get(), seeds), r.loss(), (System.nanoTime() - t0) / 1e9, flops);
        });
    }

    /** The forward of {@code seq}'s {@code batch} in the current round, on the tensor thread. */
    static CompletableFuture<Computed> forward(TrainingMode mode, DeviceState state, long seq, TokenBatch batch, double flops) {
        int round = state.round;
        TensorPayload.Encoding uplink = state.uplinkEncoding;
        ModelSegment part = state.devicePart;
        SegmentLearner learner = state.learner;
        return switch (mode) {
            case SPLITFROZEN -> TensorExecutor.shared().submit(() -> {
                long t0 = System.nanoTime();
                TensorPayload acts = SegmentLearner.frozenForward(part, batch, TensorPayload.Encoding.F32);
                return new Computed(round, seq, batch, acts, null, (System.nanoTime() - t0) / 1e9, flops, false);
            });
            case SFL -> TensorExecutor.shared().submit(() -> {
                long t0 = System.nanoTime();
                SegmentLearner.InFlight graph = learner.forwardForCut(batch, uplink);
                return new Computed(round, seq, batch, graph.activations(), graph, (System.nanoTime() - t0) / 1e9, flops, false);
            });
            default -> throw new IllegalStateException(mode + " devices train locally (LocalTrainer)");
        };
    }

    /** SFL: the backward of {@code a}'s cut gradient through the graph its forward kept, on the tensor thread. */
    static CompletableFuture<Backpropagated> backward(int round, DevicePipeline.Arrived a, double flops) {
        long seq = a.gradient().seq();
        int samples = a.pending().forward().batch().batch();
        SegmentLearner.InFlight graph = a.pending().graph();
        TensorPayload gradient = a.gradient().gradient();
        return TensorExecutor.shared().submit(() -> {
            long t0 = System.nanoTime();
            graph.backward(gradient);
            return new Backpropagated(round, seq, samples, (System.nanoTime() - t0) / 1e9, flops);
        });
    }
}
