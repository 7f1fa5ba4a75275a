package io.splitfed.model.head;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.nn.DecoderModel;
import io.splitfed.model.nn.ForwardPass;

import java.util.Map;

/**
 * Sequence classification as {@code GPT2ForSequenceClassification} and
 * {@code LlamaForSequenceClassification} do it: the hidden state of each row's last non-padding
 * token, the final norm, and a bias-free {@code score} layer, trained with cross-entropy.
 */
public final class ClassificationHead implements TaskHead {

    public static final String SCORE = "score.weight";

    private final int numLabels;

    public ClassificationHead(int numLabels) {
        if (numLabels < 2) {
            throw new IllegalArgumentException("a classifier needs at least 2 labels, got " + numLabels);
        }
        this.numLabels = numLabels;
    }

    public int numLabels() {
        return numLabels;
    }

    @Override
    public Map<String, int[]> trainableTensors(ModelConfig config) {
        return Map.of(SCORE, new int[] {numLabels, config.hiddenSize()});
    }

    @Override
    public String peftTaskType() {
        return "SEQ_CLS";
    }

    @Override
    public HeadOutput apply(ForwardPass pass, DecoderModel model, NDArray hidden, TokenBatch batch) {
        int b = pass.batch();
        int t = pass.seqLen();
        // pooling by a one-hot (batch, 1, T) matmul keeps it a single differentiable op
        float[] pick = new float[b * t];
        for (int i = 0; i < b; i++) {
            pick[i * t + pass.lengths()[i] - 1] = 1f;
        }
        NDArray selector = pass.manager().create(pick, new Shape(b, 1, t));
        NDArray pooled = selector.matMul(hidden).reshape(b, hidden.getShape().get(2));
        NDArray normed = model.finalNorm(pass, pooled);
        NDArray score = pass.adapter() == null ? null : pass.adapter().full(SCORE);
        if (score == null) {
            throw new IllegalStateException("classification needs the adapter's " + SCORE);
        }
        NDArray logits = normed.getNDArrayInternal().linear(normed, score, null).singletonOrThrow();
        NDArray loss = null;
        if (batch.labels() != null) {
            float[] onehot = new float[b * numLabels];
            for (int i = 0; i < b; i++) {
                int label = batch.labels()[i];
                if (label < 0 || label >= numLabels) {
                    throw new IllegalArgumentException("label " + label + " of sample " + batch.sampleIds()[i] + " is outside 0.." + (numLabels - 1));
                }
                onehot[i * numLabels + label] = 1f;
            }
            NDArray target = pass.manager().create(onehot, new Shape(b, numLabels));
            loss = logits.logSoftmax(1).mul(target).sum().mul(pass.scalar(-1f / b));
        }
        return new HeadOutput(loss, logits);
    }
}
