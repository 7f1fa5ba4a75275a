package io.splitfed.model.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

import io.splitfed.model.lora.LoraWeights;
import io.splitfed.model.nn.DecoderModel;
import io.splitfed.model.nn.ForwardPass;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.Autograd;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorTransfer;

import java.util.Arrays;

/**
 * Greedy decoding: append the arg-max token until {@code maxNewTokens} or end-of-sequence. Each
 * step re-runs the whole prefix (no KV cache); fine for sanity checks and short answers.
 */
public final class GreedyDecoder {

    private final DecoderModel model;
    private final LoraWeights adapter;

    /** @param adapter an inference-mode adapter covering any blocks, or null for the base model */
    public GreedyDecoder(DecoderModel model, LoraWeights adapter) {
        this.model = model;
        this.adapter = adapter;
    }

    /** The prompt followed by the generated ids. {@code eosId < 0} never stops early. */
    public int[] generate(int[] prompt, int maxNewTokens, int eosId) {
        TensorExecutor.checkOnTensorThread();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt needs at least one token");
        }
        int max = model.config().maxPositions();
        int[] seq = Arrays.copyOf(prompt, prompt.length + maxNewTokens);
        int len = prompt.length;
        ModelSegment whole = ModelSegment.whole(model, null);
        for (int step = 0; step < maxNewTokens && len < max; step++) {
            int t = len;
            int[] ids = Arrays.copyOf(seq, t);
            int next;
            try (ForwardPass pass = ForwardPass.create(TensorExecutor.shared().rootManager(), 1, t, new int[] {t})) {
                pass.withAdapter(adapter);
                next = Autograd.noGrad(() -> {
                    NDArray input = TensorTransfer.longs(pass.manager(), ids, 1, t);
                    NDArray hidden = whole.hidden(pass, input);
                    NDArray last = hidden.get(new NDIndex(":, -1, :"));
                    NDArray logits = model.lmLogits(pass, model.finalNorm(pass, last));
                    return (int) logits.argMax(-1).toLongArray()[0];
                });
            }
            seq[len++] = next;
            if (next == eosId) {
                break;
            }
        }
        return Arrays.copyOf(seq, len);
    }
}
