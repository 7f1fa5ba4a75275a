package io.splitfed.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraWeights;
import io.splitfed.model.tensor.TensorExecutor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The scope of one forward (and backward) pass over a micro-batch: its NDManager, which frees
 * every intermediate when the pass closes, the right-padded batch geometry, the attention mask,
 * the adapter version in use and, in {@link LoraWeights.Mode#DECOMPOSED} mode, what the weight
 * gradient pass will need.
 */
public final class ForwardPass implements AutoCloseable {

    /** What a decomposed backward keeps per adapted module: its input after dropout, x A^T, and the probe. */
    public record Capture(LoraWeights.Module module, NDArray input, NDArray projected, NDArray probe) {}

    private final NDManager manager;
    private final int batch;
    private final int seqLen;
    private final int[] lengths;
    private LoraWeights adapter;
    private boolean training;
    private SplittableRandom dropoutRng;
    private double dropout;
    private NDArray mask;
    private NDArray paddingMask;
    private int[] tokenTypes;
    private NDArray[] rotary;
    private final java.util.Map<Float, NDArray> scalars = new java.util.HashMap<>();
    private final List<Capture> captures = new ArrayList<>();
    private final List<Object> attachments = new ArrayList<>();

    private ForwardPass(NDManager manager, int batch, int seqLen, int[] lengths) {
        this.manager = manager;
        this.batch = batch;
        this.seqLen = seqLen;
        this.lengths = lengths;
    }

    /** A pass over {@code batch} right-padded sequences of {@code seqLen}, with real lengths {@code lengths}. */
    public static ForwardPass create(NDManager parent, int batch, int seqLen, int[] lengths) {
        TensorExecutor.checkOnTensorThread();
        if (lengths.length != batch) {
            throw new IllegalArgumentException("lengths has " + lengths.length + " entries for a batch of " + batch);
        }
        for (int len : lengths) {
            if (len < 1 || len > seqLen) {
                throw new IllegalArgumentException("sequence length " + len + " outside 1.." + seqLen);
            }
        }
        return new ForwardPass(parent.newSubManager(), batch, seqLen, lengths.clone());
    }

    /** A pass over {@code batch}'s geometry, carrying its token types (BERT pairs) when it has them. */
    public static ForwardPass create(NDManager parent, TokenBatch batch) {
        ForwardPass pass = create(parent, batch.batch(), batch.seqLen(), batch.lengths());
        pass.tokenTypes = batch.tokenTypes();
        return pass;
    }

    /** Segment ids ({@code batch * seqLen}: 0 for the first text, 1 for the second), or null for all 0. */
    public int[] tokenTypes() {
        return tokenTypes;
    }

    /** Uses {@code weights} for adapted projections; the pass holds a reference until it closes. */
    public ForwardPass withAdapter(LoraWeights weights) {
        if (adapter != null) {
            adapter.release();
        }
        adapter = weights == null ? null : weights.retain();
        return this;
    }

    /** Enables LoRA dropout with a seeded stream, so runs repeat exactly. */
    public ForwardPass training(double loraDropout, long seed) {
        this.training = true;
        this.dropout = loraDropout;
        this.dropoutRng = new SplittableRandom(seed);
        return this;
    }

    public NDManager manager() {
        return manager;
    }

    public int batch() {
        return batch;
    }

    public int seqLen() {
        return seqLen;
    }

    public int[] lengths() {
        return lengths;
    }

    public LoraWeights adapter() {
        return adapter;
    }

    public List<Capture> captures() {
        return captures;
    }

    /** Keeps an object alive as long as the pass (e.g. a buffer an NDArray views). */
    public void attach(Object o) {
        attachments.add(o);
    }

    /**
     * {@code x W^T + b}, plus the adapter's {@code scale * dropout(x) A^T B^T} when the adapter
     * covers {@code module}. {@code weight} is (out, in).
     */
    public NDArray linear(String module, NDArray x, NDArray weight, NDArray bias) {
        NDArray y;
        if (weight.getDataType() == x.getDataType()) {
            y = x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
        } else {
            // a base held in bf16 or fp16: the matmul in its type, the rest (bias, adapter) in x's
            NDArray low = x.toType(weight.getDataType(), false);
            y = low.getNDArrayInternal().linear(low, weight, null).singletonOrThrow().toType(x.getDataType(), false);
            if (bias != null) {
                y = y.add(bias);
            }
        }
        LoraWeights.Module m = adapter == null ? null : adapter.module(module);
        if (m == null) {
            return y;
        }
        NDArray xin = x;
        if (training && dropout > 0) {
            // x * kept * 1/(1-p): the same values, and the same gradients, as x times a 0-or-1/(1-p) mask
            xin = x.mul(dropoutMask(x.getShape())).mul(scalar((float) (1.0 / (1.0 - dropout))));
        }
        NDArray projected = xin.getNDArrayInternal().linear(xin, m.a(), null).singletonOrThrow();
        NDArray delta = projected.getNDArrayInternal().linear(projected, m.b(), null).singletonOrThrow().mul(scalar((float) m.scale()));
        if (adapter.mode() == LoraWeights.Mode.DECOMPOSED) {
            NDArray probe = manager.zeros(delta.getShape());
            probe.setRequiresGradient(true);
            delta = delta.add(probe);
            captures.add(new Capture(m, xin, projected, probe));
        }
        return y.add(delta);
    }

    /**
     * Which entries dropout keeps, one byte each, drawn from the pass's seeded stream: entry i is
     * dropped when the stream's i-th {@code nextDouble()} is below the dropout rate, compared here
     * as the integer it is made from ({@code nextDouble() = (nextLong() >>> 11) * 2^-53}, so the
     * same draws decide). Written straight into the direct buffer the tensor is made from: a float
     * mask built in an array took four times the memory and two more copies, and on MiniLM's server
     * blocks it is millions of entries a step.
     */
    private NDArray dropoutMask(Shape shape) {
        int n = Math.toIntExact(shape.size());
        long threshold = (long) Math.ceil(dropout * 0x1.0p53);
        java.nio.ByteBuffer kept = java.nio.ByteBuffer.allocateDirect(n);
        for (int i = 0; i < n; i++) {
            kept.put(i, (dropoutRng.nextLong() >>> 11) < threshold ? (byte) 0 : (byte) 1);
        }
        return manager.create(kept, shape, ai.djl.ndarray.types.DataType.BOOLEAN);
    }

    /**
     * A 0-d constant that lives as long as the pass. Use it instead of {@code NDArray.mul(Number)}:
     * DJL frees the scalar it makes for that call at once, while autograd keeps it for backward,
     * so a garbage collection in between turns gradients into garbage.
     */
    public NDArray scalar(float value) {
        return scalars.computeIfAbsent(value, v -> manager.create(v));
    }

    /** Rotary tables for this pass's positions, built once and shared by every block. */
    public NDArray[] rotary(java.util.function.Supplier<NDArray[]> build) {
        if (rotary == null) {
            rotary = build.get();
        }
        return rotary;
    }

    /** Additive (batch, 1, T, T) mask: causal, and keys past each sequence's length hidden. */
    public NDArray attentionMask() {
        if (mask == null) {
            float[] m = new float[batch * seqLen * seqLen];
            for (int b = 0; b < batch; b++) {
                int base = b * seqLen * seqLen;
                for (int i = 0; i < seqLen; i++) {
                    for (int j = 0; j < seqLen; j++) {
                        if (j > i || j >= lengths[b]) {
                            m[base + i * seqLen + j] = -1e9f;
                        }
                    }
                }
            }
            mask = manager.create(m, new Shape(batch, 1, seqLen, seqLen));
        }
        return mask;
    }

    /** Additive (batch, 1, 1, T) mask for bidirectional attention: only keys past each sequence's length hidden. */
    public NDArray paddingMask() {
        if (paddingMask == null) {
            float[] m = new float[batch * seqLen];
            for (int b = 0; b < batch; b++) {
                for (int j = lengths[b]; j < seqLen; j++) {
                    m[b * seqLen + j] = -1e9f;
                }
            }
            paddingMask = manager.create(m, new Shape(batch, 1, 1, seqLen));
        }
        return paddingMask;
    }

    @Override
    public void close() {
        manager.close();
        if (adapter != null) {
            adapter.release();
            adapter = null;
        }
        captures.clear();
        attachments.clear();
        scalars.clear();
    }
}
