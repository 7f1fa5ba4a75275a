package io.splitfed.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.config.ModelFamily;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.lora.LoraModule;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorTransfer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Frozen base weights of a decoder-only model on the engine, and the functions that run its
 * pieces: embeddings, block {@code i}, final norm, LM head. One instance serves every device part
 * and server part in the JVM, whatever their split points, so a thousand simulated devices share
 * one copy of the weights.
 */
public abstract class DecoderModel implements AutoCloseable {

    protected final ModelConfig config;
    protected final NDManager manager;
    protected final Map<String, NDArray> weights = new LinkedHashMap<>();

    protected DecoderModel(ModelConfig config, NDManager manager, Map<String, HostTensor> tensors) {
        this.config = config;
        this.manager = manager;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            NDArray a = TensorTransfer.toNDArray(manager, e.getValue());
            a.setName(e.getKey());
            weights.put(e.getKey(), a);
        }
    }

    /** Puts loaded weights on the engine. Tensor thread only. */
    public static DecoderModel create(LoadedWeights loaded) {
        TensorExecutor.checkOnTensorThread();
        NDManager m = TensorExecutor.shared().rootManager().newSubManager();
        return loaded.config().family() == ModelFamily.GPT2
                ? new Gpt2Model(loaded.config(), m, loaded.tensors())
                : new LlamaModel(loaded.config(), m, loaded.tensors());
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

    /** Block {@code layer} on hidden states (batch, T, d). */
    public abstract NDArray block(ForwardPass pass, int layer, NDArray x);

    /** The final norm, on (..., d). */
    public abstract NDArray finalNorm(ForwardPass pass, NDArray x);

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

    /** The base weights back on the heap, in internal (out, in) layout. */
    public Map<String, HostTensor> hostWeights() {
        TensorExecutor.checkOnTensorThread();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        weights.forEach((k, v) -> out.put(k, TensorTransfer.toHost(v)));
        return out;
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
