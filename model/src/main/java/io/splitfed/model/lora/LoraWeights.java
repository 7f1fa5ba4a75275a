package io.splitfed.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import io.splitfed.model.tensor.Autograd;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorTransfer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One version of an adapter on the engine. Optimizer steps never modify a version in place: they
 * update the {@link LoraAdapter} on the heap and materialise a new version, while forward passes
 * still in flight keep theirs (weight stashing, as PipeDream does), so a pipelined device can run
 * micro-batch i+1 before the gradient of micro-batch i arrives. Reference counted; the last
 * {@link #release()} frees the native memory.
 */
public final class LoraWeights {

    /** How a forward pass treats adapter parameters. */
    public enum Mode {
        /** No gradients at all (evaluation, frozen parts). */
        INFERENCE,
        /** Autograd computes every trainable parameter's gradient in one backward pass. */
        FUSED,
        /**
         * LoRA pairs are constants during backward; the pass records each module's input and the
         * gradient of its output, and {@code WeightGradients} forms dA and dB afterwards. Full
         * tensors (a classification head) still get their gradient from autograd.
         */
        DECOMPOSED
    }

    /** An adapted projection's tensors on the engine. */
    public record Module(String path, NDArray a, NDArray b, double scale) {}

    private final NDManager manager;
    private final Mode mode;
    private final Map<String, Module> modules = new LinkedHashMap<>();
    private final Map<String, NDArray> full = new LinkedHashMap<>();
    private final Map<String, NDArray> leaves = new LinkedHashMap<>();
    private int refs = 1;

    private LoraWeights(NDManager manager, Mode mode) {
        this.manager = manager;
        this.mode = mode;
    }

    /** Copies {@code adapter} to the engine. Tensor thread only. */
    public static LoraWeights materialize(NDManager parent, LoraAdapter adapter, Mode mode) {
        TensorExecutor.checkOnTensorThread();
        LoraWeights w = new LoraWeights(parent.newSubManager(), mode);
        for (String path : adapter.modulePaths()) {
            NDArray a = w.leaf(adapter, path + ".lora_A.weight", mode == Mode.FUSED);
            NDArray b = w.leaf(adapter, path + ".lora_B.weight", mode == Mode.FUSED);
            w.modules.put(path, new Module(path, a, b, adapter.scale(path)));
        }
        for (String key : adapter.fullKeys()) {
            w.full.put(key, w.leaf(adapter, key, mode != Mode.INFERENCE));
        }
        return w;
    }

    private NDArray leaf(LoraAdapter adapter, String key, boolean wantGradient) {
        HostTensor t = adapter.get(key);
        NDArray array = TensorTransfer.toNDArray(manager, t);
        if (wantGradient && adapter.isTrainable(key)) {
            array.setRequiresGradient(true);
            leaves.put(key, array);
        }
        return array;
    }

    public Mode mode() {
        return mode;
    }

    public Module module(String path) {
        return modules.get(path);
    }

    public NDArray full(String key) {
        return full.get(key);
    }

    public Map<String, Module> modules() {
        return modules;
    }

    /** True when some tensor of this version records gradients. */
    public boolean hasTrainableLeaves() {
        return !leaves.isEmpty();
    }

    /**
     * Gradients autograd left on the trainable leaves. A leaf backward never reached (a block the
     * segment did not run) is left out, so the optimizer skips it as PyTorch's AdamW skips a
     * parameter whose grad is None.
     */
    public Map<String, HostTensor> leafGradients() {
        TensorExecutor.checkOnTensorThread();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            NDArray g = Autograd.gradientOrNull(e.getValue());
            if (g != null) {
                try (g) {
                    out.put(e.getKey(), TensorTransfer.toHost(g));
                }
            }
        }
        return out;
    }

    public LoraWeights retain() {
        if (refs <= 0) {
            throw new IllegalStateException("adapter version already released");
        }
        refs++;
        return this;
    }

    public void release() {
        if (--refs == 0) {
            manager.close();
        }
    }

    public boolean isReleased() {
        return refs <= 0;
    }
}
