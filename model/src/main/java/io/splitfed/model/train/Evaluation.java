package io.splitfed.model.train;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.TaskHead;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraWeights;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.nn.ForwardPass;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.Autograd;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorTransfer;

import java.util.List;

/**
 * Scores a model made of base weights plus adapters on held-out batches. A split model is scored
 * whole: device and server adapters applied together give the same logits as running the two
 * parts (see the split-equivalence tests). Tensor thread only.
 */
public final class Evaluation {

    /**
     * Accuracy (classification; NaN otherwise) and mean loss over {@code samples}, with the
     * confusion matrix ({@code confusion[true][predicted]}; null for language modelling).
     */
    public record Result(double accuracy, double loss, int samples, int[][] confusion) {

        public Result(double accuracy, double loss, int samples) {
            this(accuracy, loss, samples, null);
        }

        /** F1 of class 1 (the positive class of GLUE's binary tasks), or NaN without a 2 x 2 confusion matrix. */
        public double binaryF1() {
            if (confusion == null || confusion.length != 2) {
                return Double.NaN;
            }
            double tp = confusion[1][1];
            double fp = confusion[0][1];
            double fn = confusion[1][0];
            return tp == 0 ? 0 : 2 * tp / (2 * tp + fp + fn);
        }
    }

    /** Rows per scoring batch. */
    public static final int BATCH = 64;

    private Evaluation() {}

    public static Result run(TransformerModel model, TaskHead head, LoraAdapter adapter, List<TokenBatch> batches) {
        TensorExecutor.checkOnTensorThread();
        LoraWeights weights = LoraWeights.materialize(TensorExecutor.shared().rootManager(), adapter, LoraWeights.Mode.INFERENCE);
        ModelSegment whole = ModelSegment.whole(model, head);
        boolean classify = head.peftTaskType().equals("SEQ_CLS");
        long correct = 0;
        int[][] confusion = null;
        double lossSum = 0;
        int samples = 0;
        try {
            for (TokenBatch b : batches) {
                if (io.splitfed.model.tensor.TensorExecutor.stopping()) {
                    throw new java.util.concurrent.CancellationException("evaluation abandoned: the JVM is stopping");
                }
                try (ForwardPass pass = ForwardPass.create(TensorExecutor.shared().rootManager(), b)) {
                    pass.withAdapter(weights);
                    float[][] out = Autograd.noGrad(() -> {
                        var h = whole.hidden(pass, TensorTransfer.longs(pass.manager(), b.ids(), b.batch(), b.seqLen()));
                        var o = head.apply(pass, model, h, b);
                        return new float[][] {classify ? o.logits().toFloatArray() : null, {o.loss() == null ? Float.NaN : o.loss().getFloat()}};
                    });
                    lossSum += out[1][0] * b.batch();
                    samples += b.batch();
                    if (classify) {
                        int classes = out[0].length / b.batch();
                        if (confusion == null) {
                            confusion = new int[classes][classes];
                        }
                        for (int i = 0; i < b.batch(); i++) {
                            int best = 0;
                            for (int c = 1; c < classes; c++) {
                                if (out[0][i * classes + c] > out[0][i * classes + best]) {
                                    best = c;
                                }
                            }
                            if (best == b.labels()[i]) {
                                correct++;
                            }
                            confusion[b.labels()[i]][best]++;
                        }
                    }
                }
            }
        } finally {
            weights.release();
        }
        return new Result(classify ? (double) correct / Math.max(samples, 1) : Double.NaN, lossSum / Math.max(samples, 1), samples, confusion);
    }
}
