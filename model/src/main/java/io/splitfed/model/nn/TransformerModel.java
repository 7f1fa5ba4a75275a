package io.splitfed.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.lora.LoraModule;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.BasePrecision;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorTransfer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Frozen base weights of a transformer on the engine (a GPT-2 or Llama decoder, or a BERT
 * encoder), and the functions that run its pieces: embeddings, block {@code i}, final norm,
 * pooling, LM head. One instance serves every device part
 * and server part in the JVM, whatever their split points, so a thousand simulated devices share
 * one copy of the weights.
 */
public abstract class TransformerModel implements AutoCloseable {

    protected final ModelConfig config;
    protected final NDManager manager;
    protected final Map<String, NDArray> weights = new LinkedHashMap<>();
    private BasePrecision precision = BasePrecision.FP32;

    protected TransformerModel(ModelConfig config, NDManager manager, Map<String, HostTensor> tensors) {
        this.config = config;
        this.manager = manager;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            NDArray a = TensorTransfer.toNDArray(manager, e.getValue());
            a.setName(e.getKey());
            weights.put(e.getKey(), a);
        }
    }

    /** Puts loaded weights on the engine, the block matrices in the JVM's base precision. Tensor thread only. */
    public static TransformerModel create(LoadedWeights loaded) {
        return create(loaded, TensorExecutor.shared().basePrecision());
    }

    /** Puts loaded weights on the engine, the block matrices in {@code precision}. Tensor thread only. */
    public static TransformerModel create(LoadedWeights loaded, BasePrecision precision) {
        TensorExecutor.checkOnTensorThread();
        NDManager m = TensorExecutor.shared().rootManager().newSubManager();
        TransformerModel model = switch (loaded.config().family()) {
            case GPT2 -> new Gpt2Model(loaded.config(), m, loaded.tensors());
            case LLAMA -> new LlamaModel(loaded.config(), m, loaded.tensors());
            case BERT -> new BertModel(loaded.config(), m, loaded.tensors());
        };
        model.holdBlockMatricesIn(precision);
        return model;
    }

    /** A block's matrix: a 2-D weight under a numbered layer (embeddings, norms, pooler and head are not). */
    private static final java.util.regex.Pattern BLOCK_MATRIX = java.util.regex.Pattern.compile("(^|.*\\.)(layer|layers|h)\\.\\d+\\..*weight$");

    private void holdBlockMatricesIn(BasePrecision precision) {
        this.precision = precision;
        if (precision == BasePrecision.FP32) {
            return;
        }
        for (Map.Entry<String, NDArray> e : weights.entrySet()) {
            NDArray a = e.getValue();
            if (a.getShape().dimension() == 2 && BLOCK_MATRIX.matcher(e.getKey()).matches()) {
                NDArray cast = a.toType(precision.dataType(), false);
                cast.setName(e.getKey());
                e.setValue(cast);
                a.close();
            }
        }
    }

    /** The type the block matrices are held in. */
    public BasePrecision basePrecision() {
        return precision;
    }

    public ModelConfig config() {
        return config;
    }

    public int numLayers() {
        return config.numLayers();
    }

    protected NDArray w(String name) {
        NDArray a = weights.get(name);
        if (a == null) {
            throw new IllegalStateException("model has no weight " + name);
        }
        return a;
    }

    /** Token ids (batch, T) as int64 to hidden states (batch, T, d). */
    public abstract NDArray embed(ForwardPass pass, NDArray ids);

    /** Rows of embedding table {@code table} for int64 {@code ids}. */
    protected NDArray lookup(NDArray ids, String table) {
        return ids.getNDArrayInternal().embedding(ids, w(table), SparseFormat.DENSE).singletonOrThrow();
    }

    /** Learned position embeddings of table {@code table} for positions 0..T-1, checked against its length. */
    protected NDArray positions(ForwardPass pass, String table, String limitName) {
        int t = pass.seqLen();
        if (t > config.maxPositions()) {
            throw new IllegalArgumentException("sequence of " + t + " tokens exceeds " + limitName + " " + config.maxPositions());
        }
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) {
            pos[i] = i;
        }
        return lookup(TensorTransfer.longs(pass.manager(), pos, t), table);
    }

    /** Block {@code layer} on hidden states (batch, T, d). */
    public abstract NDArray block(ForwardPass pass, int layer, NDArray x);

    /** The final norm, on (..., d). */
    public abstract NDArray finalNorm(ForwardPass pass, NDArray x);

    /**
     * One vector per row for classification, from the last block's output (batch, T, d). Decoders
     * take each row's last real token through the final norm: under causal attention only it has
     * seen the whole text. Encoders override this.
     */
    public NDArray pool(ForwardPass pass, NDArray hidden) {
        int b = pass.batch();
        int t = pass.seqLen();
        float[] pick = new float[b * t];
        for (int i = 0; i < b; i++) {
            pick[i * t + pass.lengths()[i] - 1] = 1f;
        }
        return finalNorm(pass, weightedSum(pass, hidden, pick));
    }

    /**
     * Each row's hidden states (batch, T, d) summed with its own weights over positions
     * ({@code batch * T}), as one (batch, 1, T) matmul: pooling stays a single differentiable op.
     */
    protected static NDArray weightedSum(ForwardPass pass, NDArray hidden, float[] weights) {
        NDArray selector = pass.manager().create(weights, new Shape(pass.batch(), 1, pass.seqLen()));
        return selector.matMul(hidden).reshape(pass.batch(), hidden.getShape().get(2));
    }

    /** Vocabulary logits from normed hidden states. */
    public NDArray lmLogits(ForwardPass pass, NDArray normed) {
        NDArray head = weights.containsKey("lm_head.weight") ? w("lm_head.weight") : w(embeddingName());
        return normed.getNDArrayInternal().linear(normed, head, null).singletonOrThrow();
    }

    protected abstract String embeddingName();

    /** The projections of block {@code layer} that {@code targets} adapt, with their widths. */
    public abstract List<LoraModule> loraModules(int layer, Set<LoraTarget> targets);

    /** Adapted projections over blocks [from, to). */
    public List<LoraModule> loraModules(int from, int to, Set<LoraTarget> targets) {
        List<LoraModule> out = new java.util.ArrayList<>();
        for (int l = from; l < to; l++) {
            out.addAll(loraModules(l, targets));
        }
        return out;
    }

    /** The base weights back on the heap, in internal (out, in) layout, as fp32 whatever the base precision. */
    public Map<String, HostTensor> hostWeights() {
        TensorExecutor.checkOnTensorThread();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        weights.forEach((k, v) -> {
            if (v.getDataType() == ai.djl.ndarray.types.DataType.FLOAT32) {
                out.put(k, TensorTransfer.toHost(v));
            } else {
                try (NDArray f = v.toType(ai.djl.ndarray.types.DataType.FLOAT32, false)) {
                    out.put(k, TensorTransfer.toHost(f));
                }
            }
        });
        return out;
    }

    /** The input token embeddings, [vocab, hidden], in fp32: public knowledge an attacker on the cut starts from. Tensor thread only. */
    public HostTensor wordEmbeddings() {
        TensorExecutor.checkOnTensorThread();
        NDArray e = weights.get(embeddingName());
        try (NDArray f = e.toType(ai.djl.ndarray.types.DataType.FLOAT32, true)) {
            return TensorTransfer.toHost(f);
        }
    }

    /** Number of live arrays owned by the base (for leak checks). */
    public int managedArrayCount() {
        return manager.getManagedArrays().size();
    }

    @Override
    public void close() {
        manager.close();
    }
}
