package io.splitfed.model.head;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.config.ModelFamily;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.nn.ForwardPass;
import io.splitfed.model.nn.TransformerModel;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sequence classification. The model pools each row into one vector ({@link TransformerModel#pool}):
 * decoders take the last real token through the final norm, as {@code GPT2ForSequenceClassification}
 * and {@code LlamaForSequenceClassification} do, scored by a bias-free {@code score} layer; BERT
 * encoders pool over the sequence and score with {@code classifier} (weight and bias), as
 * {@code BertForSequenceClassification} names it. Trained with cross-entropy.
 */
public final class ClassificationHead implements TaskHead {

    /** The decoders' output layer. */
    public static final String SCORE = "score.weight";
    /** BERT's output layer, weight and bias. */
    public static final String CLASSIFIER = "classifier.weight";
    public static final String CLASSIFIER_BIAS = "classifier.bias";

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

    /** The output layer's weight key for a model family. */
    public static String weightKey(ModelFamily family) {
        return family == ModelFamily.BERT ? CLASSIFIER : SCORE;
    }

    @Override
    public Map<String, int[]> trainableTensors(ModelConfig config) {
        Map<String, int[]> out = new LinkedHashMap<>();
        out.put(weightKey(config.family()), new int[] {numLabels, config.hiddenSize()});
        if (config.family() == ModelFamily.BERT) {
            out.put(CLASSIFIER_BIAS, new int[] {numLabels});
        }
        return out;
    }

    @Override
    public String peftTaskType() {
        return "SEQ_CLS";
    }

    @Override
    public HeadOutput apply(ForwardPass pass, TransformerModel model, NDArray hidden, TokenBatch batch) {
        int b = pass.batch();
        NDArray pooled = model.pool(pass, hidden);
        String key = weightKey(model.config().family());
        NDArray weight = pass.adapter() == null ? null : pass.adapter().full(key);
        if (weight == null) {
            throw new IllegalStateException("classification needs the adapter's " + key);
        }
        NDArray bias = model.config().family() == ModelFamily.BERT ? pass.adapter().full(CLASSIFIER_BIAS) : null;
        NDArray logits = pooled.getNDArrayInternal().linear(pooled, weight, bias).singletonOrThrow();
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
