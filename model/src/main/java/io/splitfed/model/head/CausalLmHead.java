package io.splitfed.model.head;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.nn.ForwardPass;
import io.splitfed.model.tensor.TensorTransfer;

import java.util.Map;

/** Next-token prediction through the (possibly tied) LM head, loss averaged over masked tokens. */
public final class CausalLmHead implements TaskHead {

    @Override
    public Map<String, int[]> trainableTensors(ModelConfig config) {
        return Map.of();
    }

    @Override
    public String peftTaskType() {
        return "CAUSAL_LM";
    }

    @Override
    public HeadOutput apply(ForwardPass pass, TransformerModel model, NDArray hidden, TokenBatch batch) {
        NDArray logits = model.lmLogits(pass, model.finalNorm(pass, hidden));
        NDArray loss = null;
        if (batch.targets() != null) {
            int b = pass.batch();
            int t = pass.seqLen();
            float count = 0;
            for (float m : batch.lossMask()) {
                count += m;
            }
            NDArray targets = TensorTransfer.longs(pass.manager(), batch.targets(), b, t, 1);
            NDArray mask = pass.manager().create(batch.lossMask(), new Shape(b, t, 1));
            NDArray picked = logits.logSoftmax(2).gather(targets, 2);
            loss = picked.mul(mask).sum().mul(pass.scalar(-1f / Math.max(count, 1f)));
        }
        return new HeadOutput(loss, logits);
    }
}
