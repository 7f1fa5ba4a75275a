package io.splitfed.model.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

import io.splitfed.model.lora.LoraWeights;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.nn.ForwardPass;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.Autograd;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorTransfer;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Autoregressive decoding: greedy (arg-max) or sampled with temperature and top-k, until
 * {@code maxNewTokens} or end-of-sequence. Each step re-runs the whole prefix (no KV cache), which
 * is fine for sanity checks and short answers.
 */
public final class TextGenerator {

    /** How the next token is chosen. */
    public record Strategy(boolean greedy, double temperature, int topK, long seed) {

        public static Strategy greedyDecoding() {
            return new Strategy(true, 1, 0, 0);
        }

        public static Strategy sampling(double temperature, int topK, long seed) {
            if (temperature <= 0) {
                throw new IllegalArgumentException("temperature must be positive, got " + temperature);
            }
            return new Strategy(false, temperature, topK, seed);
        }
    }

    private final TransformerModel model;
    private final LoraWeights adapter;

    /** @param adapter an inference-mode adapter covering any blocks, or null for the base model */
    public TextGenerator(TransformerModel model, LoraWeights adapter) {
        this.model = model;
        this.adapter = adapter;
    }

    /** Greedy continuation; {@code eosId < 0} never stops early. The result starts with the prompt. */
    public int[] generate(int[] prompt, int maxNewTokens, int eosId) {
        return generate(prompt, maxNewTokens, eosId, Strategy.greedyDecoding());
    }

    public int[] generate(int[] prompt, int maxNewTokens, int eosId, Strategy strategy) {
        TensorExecutor.checkOnTensorThread();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt needs at least one token");
        }
        int max = model.config().maxPositions();
        int[] seq = Arrays.copyOf(prompt, prompt.length + maxNewTokens);
        int len = prompt.length;
        SplittableRandom rng = new SplittableRandom(strategy.seed());
        ModelSegment whole = ModelSegment.whole(model, null);
        for (int step = 0; step < maxNewTokens && len < max; step++) {
            int t = len;
            int[] ids = Arrays.copyOf(seq, t);
            float[] logits;
            try (ForwardPass pass = ForwardPass.create(TensorExecutor.shared().rootManager(), 1, t, new int[] {t})) {
                pass.withAdapter(adapter);
                logits = Autograd.noGrad(() -> {
                    NDArray input = TensorTransfer.longs(pass.manager(), ids, 1, t);
                    NDArray last = whole.hidden(pass, input).get(new NDIndex(":, -1, :"));
                    return model.lmLogits(pass, model.finalNorm(pass, last)).toFloatArray();
                });
            }
            int next = strategy.greedy() ? argMax(logits) : sample(logits, strategy, rng);
            seq[len++] = next;
            if (next == eosId) {
                break;
            }
        }
        return Arrays.copyOf(seq, len);
    }

    static int argMax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    static int sample(float[] logits, Strategy s, SplittableRandom rng) {
        float cutoff = Float.NEGATIVE_INFINITY;
        if (s.topK() > 0 && s.topK() < logits.length) {
            float[] sorted = logits.clone();
            Arrays.sort(sorted);
            cutoff = sorted[sorted.length - s.topK()];
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = logits[i] < cutoff ? 0 : Math.exp((logits[i] - max) / s.temperature());
            sum += p[i];
        }
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u <= 0) {
                return i;
            }
        }
        return argMax(logits);
    }
}
