package io.splitfed.model.train;

import ai.djl.ndarray.NDArray;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.HeadOutput;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraWeights;
import io.splitfed.model.nn.ForwardPass;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.Autograd;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.TensorTransfer;
import io.splitfed.model.tensor.WireCodec;

import java.util.Map;
import java.util.function.Consumer;

/**
 * A segment being fine-tuned: its adapter and optimizer, and the steps that train it. A server
 * part trains on cut activations and can hand back the cut gradient; a device part in SFL runs
 * forward, keeps its graph, and steps when the cut gradient returns; the whole model trains
 * end-to-end (FedLoRA, centralized). Tensor thread only.
 */
public final class SegmentLearner implements AutoCloseable {

    /** How the backward pass of a trainable segment is organised. */
    public enum Backward {
        /** One autograd pass computes every gradient. */
        FUSED,
        /** Input gradient first (and handed out), LoRA weight gradients after. */
        DECOMPOSED
    }

    /** What one training step produced. {@code logits} is (batch x classes) for classifiers, else null. */
    public record StepResult(float loss, float[] logits, double learningRate) {}

    /** A step's loss and logits with the gradient of every trainable tensor, before any update. */
    public record Gradients(float loss, float[] logits, Map<String, HostTensor> values) {}

    private final ModelSegment segment;
    private final LoraAdapter adapter;
    private final AdamW optimizer;
    private final Backward backward;
    private final double loraDropout;
    private final long seed;
    private LoraWeights trainVersion;
    private LoraWeights evalVersion;
    private long passes;

    private SegmentLearner(ModelSegment segment, LoraAdapter adapter, AdamW optimizer, Backward backward, double loraDropout, long seed) {
        this.segment = segment;
        this.adapter = adapter;
        this.optimizer = optimizer;
        this.backward = backward;
        this.loraDropout = loraDropout;
        this.seed = seed;
    }

    public static SegmentLearner create(ModelSegment segment, LoraAdapter adapter, AdamW optimizer, Backward backward, long seed) {
        return new SegmentLearner(segment, adapter, optimizer, backward, adapter.config().dropout(), seed);
    }

    public ModelSegment segment() {
        return segment;
    }

    /** The live adapter; the optimizer updates it in place. */
    public LoraAdapter adapter() {
        return adapter;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /** Replaces adapter values (after aggregation, or from a checkpoint). */
    public void load(LoraAdapter values) {
        for (Map.Entry<String, HostTensor> e : values.tensors().entrySet()) {
            adapter.set(e.getKey(), e.getValue().copy());
        }
        invalidate();
    }

    private void invalidate() {
        if (trainVersion != null) {
            trainVersion.release();
            trainVersion = null;
        }
        if (evalVersion != null) {
            evalVersion.release();
            evalVersion = null;
        }
    }

    /**
     * The adapter version a training step runs with. The decomposed B/W backward only pays off when
     * someone waits for the input gradient (SFL's device); a step whose cut gradient nobody needs
     * (SplitFrozen, FedLoRA, centralized) runs the fused backward, which does less work.
     */
    private LoraWeights trainVersion(boolean decomposed) {
        LoraWeights.Mode mode = decomposed ? LoraWeights.Mode.DECOMPOSED : LoraWeights.Mode.FUSED;
        if (trainVersion != null && trainVersion.mode() != mode) {
            trainVersion.release();
            trainVersion = null;
        }
        if (trainVersion == null) {
            trainVersion = LoraWeights.materialize(TensorExecutor.shared().rootManager(), adapter, mode);
        }
        return trainVersion;
    }

    private LoraWeights evalVersion() {
        if (evalVersion == null) {
            evalVersion = LoraWeights.materialize(TensorExecutor.shared().rootManager(), adapter, LoraWeights.Mode.INFERENCE);
        }
        return evalVersion;
    }

    private ForwardPass openPass(TokenBatch batch, LoraWeights version, boolean training) {
        ForwardPass pass = ForwardPass.create(TensorExecutor.shared().rootManager(), batch)
                .withAdapter(version);
        if (training) {
            pass.training(loraDropout, seed * 1_000_003L + passes++);
        }
        return pass;
    }

    private NDArray input(ModelSegment segment, ForwardPass pass, TokenBatch batch, TensorPayload activations) {
        if (segment.embeds()) {
            if (batch.ids() == null) {
                throw new IllegalArgumentException("segment embeds tokens but the batch carries none");
            }
            return TensorTransfer.longs(pass.manager(), batch.ids(), batch.batch(), batch.seqLen());
        }
        if (activations == null) {
            throw new IllegalArgumentException("segment starting at block " + segment.from() + " needs cut activations");
        }
        return WireCodec.decode(pass.manager(), activations);
    }

    /**
     * One optimizer step on a segment with a head. When {@code inputGradientSink} is given (SFL's
     * server), the gradient of the loss with respect to the cut activations is encoded with
     * {@code gradientEncoding} and handed to it before the weight-gradient pass runs.
     */
    public StepResult trainStep(TokenBatch batch, TensorPayload activations, Consumer<TensorPayload> inputGradientSink, TensorPayload.Encoding gradientEncoding) {
        return trainStep(segment, batch, activations, inputGradientSink, gradientEncoding);
    }

    /**
     * {@link #trainStep} on a server part cut at {@code splitPoint}: devices with different split
     * points share one server adapter, each micro-batch running the blocks past its own cut.
     */
    public StepResult trainStep(int splitPoint, TokenBatch batch, TensorPayload activations, Consumer<TensorPayload> inputGradientSink, TensorPayload.Encoding gradientEncoding) {
        return trainStep(ModelSegment.serverPart(segment.model(), splitPoint, segment.head()), batch, activations, inputGradientSink, gradientEncoding);
    }

    private StepResult trainStep(ModelSegment on, TokenBatch batch, TensorPayload activations, Consumer<TensorPayload> inputGradientSink, TensorPayload.Encoding gradientEncoding) {
        Gradients g = gradients(on, batch, activations, inputGradientSink, gradientEncoding);
        double lr = optimizer.step(adapter, g.values());
        invalidate();
        return new StepResult(g.loss(), g.logits(), lr);
    }

    /** {@link #trainStep} without the update: the gradients it would apply. */
    public Gradients gradients(TokenBatch batch, TensorPayload activations, Consumer<TensorPayload> inputGradientSink, TensorPayload.Encoding gradientEncoding) {
        return gradients(segment, batch, activations, inputGradientSink, gradientEncoding);
    }

    private Gradients gradients(ModelSegment segment, TokenBatch batch, TensorPayload activations, Consumer<TensorPayload> inputGradientSink, TensorPayload.Encoding gradientEncoding) {
        TensorExecutor.checkOnTensorThread();
        if (segment.head() == null) {
            throw new IllegalStateException("a training step needs a segment with a head");
        }
        boolean wantInputGrad = inputGradientSink != null && !segment.embeds();
        boolean decomposed = backward == Backward.DECOMPOSED && wantInputGrad;
        LoraWeights version = trainVersion(decomposed);
        try (ForwardPass pass = openPass(batch, version, true)) {
            NDArray x = input(segment, pass, batch, activations);
            if (wantInputGrad) {
                x.setRequiresGradient(true);
            }
            HeadOutput out = Autograd.recording(() -> segment.head().apply(pass, segment.model(), segment.hidden(pass, x), batch));
            float loss = out.loss().getFloat();
            float[] logits = segment.head().peftTaskType().equals("SEQ_CLS") ? out.logits().toFloatArray() : null;
            Autograd.backward(out.loss());
            if (wantInputGrad) {
                try (NDArray g = Autograd.gradientOrNull(x)) {
                    inputGradientSink.accept(WireCodec.encode(g, gradientEncoding, gradientEncoding.quantized() ? seed ^ passes : null));
                }
            }
            Map<String, HostTensor> grads = version.leafGradients();
            if (decomposed) {
                grads.putAll(Autograd.noGrad(() -> WeightGradients.compute(pass)));
            }
            // a version is used for one backward: its leaves' gradients must not accumulate
            invalidate();
            return new Gradients(loss, logits, grads);
        }
    }

    /** Forward only, no graph: logits (and the loss when labels are present). */
    public StepResult evaluate(TokenBatch batch, TensorPayload activations) {
        TensorExecutor.checkOnTensorThread();
        try (ForwardPass pass = openPass(batch, evalVersion(), false)) {
            return Autograd.noGrad(() -> {
                NDArray x = input(segment, pass, batch, activations);
                HeadOutput out = segment.head().apply(pass, segment.model(), segment.hidden(pass, x), batch);
                float loss = out.loss() == null ? Float.NaN : out.loss().getFloat();
                float[] logits = segment.head().peftTaskType().equals("SEQ_CLS") ? out.logits().toFloatArray() : null;
                return new StepResult(loss, logits, 0);
            });
        }
    }

    /**
     * SFL's device side: runs the segment (no head) recording a graph and returns the cut
     * activations with a handle that back-propagates the cut gradient when it returns. Each call
     * gets its own adapter version, so several may be in flight.
     */
    public InFlight forwardForCut(TokenBatch batch, TensorPayload.Encoding encoding) {
        return forward(batch, null, encoding);
    }

    /**
     * A headless segment's forward with its graph kept, from token ids (a segment that embeds) or
     * from {@code activations}: the middle of a U-shaped split, whose output goes on to a head held
     * elsewhere and whose gradient comes back into {@link InFlight#backward}.
     */
    public InFlight forward(TokenBatch batch, TensorPayload activations, TensorPayload.Encoding encoding) {
        return forward(batch, activations, encoding, false);
    }

    /**
     * {@link #forward}, and with {@code inputGradient} the graph reaches back to {@code activations}
     * too, so that {@link InFlight#backward(TensorPayload, Consumer, TensorPayload.Encoding)} can
     * return the gradient at them: the middle of a U-shaped SFL split, whose device trains the blocks
     * before the cut.
     */
    public InFlight forward(TokenBatch batch, TensorPayload activations, TensorPayload.Encoding encoding, boolean inputGradient) {
        TensorExecutor.checkOnTensorThread();
        LoraWeights version = LoraWeights.materialize(TensorExecutor.shared().rootManager(), adapter, LoraWeights.Mode.FUSED);
        ForwardPass pass = openPass(batch, version, true);
        version.release(); // the pass holds it now
        try {
            NDArray x = input(segment, pass, batch, activations);
            boolean wantInput = inputGradient && !segment.embeds();
            if (wantInput) {
                x.setRequiresGradient(true);
            }
            NDArray out = Autograd.recording(() -> segment.hidden(pass, x));
            TensorPayload cut = WireCodec.encode(out, encoding);
            return new InFlight(pass, out, cut, wantInput ? x : null);
        } catch (RuntimeException e) {
            pass.close();
            throw e;
        }
    }

    /** A device forward waiting for its cut gradient. */
    public final class InFlight implements AutoCloseable {
        private final ForwardPass pass;
        private final NDArray output;
        private final TensorPayload activations;
        private final NDArray input;
        private boolean done;

        private InFlight(ForwardPass pass, NDArray output, TensorPayload activations, NDArray input) {
            this.pass = pass;
            this.output = output;
            this.activations = activations;
            this.input = input;
        }

        public TensorPayload activations() {
            return activations;
        }

        /** Back-propagates the cut gradient into this segment's adapter and steps the optimizer. */
        public double backward(TensorPayload cutGradient) {
            Map<String, HostTensor> grads = gradients(cutGradient);
            double lr = optimizer.step(adapter, grads);
            invalidate();
            return lr;
        }

        /**
         * {@link #backward(TensorPayload)} of a forward that kept its input's gradient: the gradient
         * at the input activations, encoded with {@code encoding}, goes to {@code inputGradientSink}
         * before the optimizer steps.
         */
        public double backward(TensorPayload cutGradient, Consumer<TensorPayload> inputGradientSink, TensorPayload.Encoding encoding) {
            if (input == null) {
                throw new IllegalStateException("this forward kept no gradient at its input");
            }
            Map<String, HostTensor> grads = gradients(cutGradient, () -> {
                try (NDArray g = Autograd.gradientOrNull(input)) {
                    inputGradientSink.accept(WireCodec.encode(g, encoding, encoding.quantized() ? seed ^ passes : null));
                }
            });
            double lr = optimizer.step(adapter, grads);
            invalidate();
            return lr;
        }

        /** Back-propagates the cut gradient and returns the adapter's gradients, without an update. */
        public Map<String, HostTensor> gradients(TensorPayload cutGradient) {
            return gradients(cutGradient, null);
        }

        private Map<String, HostTensor> gradients(TensorPayload cutGradient, Runnable afterBackward) {
            TensorExecutor.checkOnTensorThread();
            if (done) {
                throw new IllegalStateException("cut gradient already applied");
            }
            done = true;
            try (pass) {
                NDArray g = WireCodec.decode(pass.manager(), cutGradient);
                if (!g.getShape().equals(output.getShape())) {
                    throw new IllegalArgumentException("cut gradient shape " + g.getShape() + " does not match activations " + output.getShape());
                }
                if (pass.adapter().hasTrainableLeaves() || input != null) { // else nothing on this side trains or wants a gradient
                    Autograd.backward(output, g);
                }
                if (afterBackward != null) {
                    afterBackward.run();
                }
                return pass.adapter().leafGradients();
            }
        }

        /** Drops the graph without training (the micro-batch was lost or rejected). */
        @Override
        public void close() {
            if (!done) {
                done = true;
                pass.close();
            }
        }
    }

    /** Frees engine memory held by cached adapter versions. */
    @Override
    public void close() {
        invalidate();
    }

    /** Cut activations of a frozen device part: no graph, no adapter. */
    public static TensorPayload frozenForward(ModelSegment devicePart, TokenBatch batch, TensorPayload.Encoding encoding) {
        TensorExecutor.checkOnTensorThread();
        try (ForwardPass pass = ForwardPass.create(TensorExecutor.shared().rootManager(), batch)) {
            return Autograd.noGrad(() -> {
                NDArray ids = TensorTransfer.longs(pass.manager(), batch.ids(), batch.batch(), batch.seqLen());
                return WireCodec.encode(devicePart.hidden(pass, ids), encoding);
            });
        }
    }
}
