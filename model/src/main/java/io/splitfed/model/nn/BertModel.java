package io.splitfed.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.io.WeightNames;
import io.splitfed.model.lora.LoraModule;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorTransfer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A BERT-family encoder as Hugging Face's {@code BertModel} computes it: word, learned position and
 * token-type embeddings summed and normed; post-LayerNorm blocks (attention, add, norm; erf GELU
 * MLP, add, norm) with bidirectional attention that hides only padding.
 *
 * <p>Pooling for classification is the mean over each row's real tokens when the checkpoint has no
 * pooler, as sentence-transformers trains MiniLM, e5 and bge: their [CLS] vector was never trained
 * to summarise the text. A checkpoint that ships {@code pooler.dense} (bert-base) is pooled as
 * {@code BertForSequenceClassification} pools it: tanh(dense([CLS])).
 */
final class BertModel extends TransformerModel {

    static final String TOKEN_TYPES = "embeddings.token_type_embeddings.weight";
    static final String POOLER = "pooler.dense";

    private final String[] prefixes;
    private final boolean hasPooler;

    BertModel(ModelConfig config, NDManager manager, Map<String, HostTensor> tensors) {
        super(config, manager, tensors);
        if (!weights.containsKey(TOKEN_TYPES)) {
            throw new IllegalArgumentException("BERT model has no " + TOKEN_TYPES);
        }
        prefixes = new String[config.numLayers()];
        for (int l = 0; l < config.numLayers(); l++) {
            prefixes[l] = WeightNames.blockPrefix(config.family(), l);
        }
        hasPooler = weights.containsKey(POOLER + ".weight");
    }

    /** "mean" or "cls", as this model pools. */
    String pooling() {
        return hasPooler ? "cls" : "mean";
    }

    @Override
    protected String embeddingName() {
        return "embeddings.word_embeddings.weight";
    }

    @Override
    public NDArray embed(ForwardPass pass, NDArray ids) {
        NDArray x = lookup(ids, embeddingName()).add(positions(pass, "embeddings.position_embeddings.weight", "max_position_embeddings"));
        int[] types = pass.tokenTypes() != null ? pass.tokenTypes() : new int[pass.batch() * pass.seqLen()];
        x = x.add(lookup(TensorTransfer.longs(pass.manager(), types, pass.batch(), pass.seqLen()), TOKEN_TYPES));
        return layerNorm(x, "embeddings.LayerNorm");
    }

    private NDArray layerNorm(NDArray x, String module) {
        return x.getNDArrayInternal()
                .layerNorm(x, new Shape(config.hiddenSize()), w(module + ".weight"), w(module + ".bias"), (float) config.normEps())
                .singletonOrThrow();
    }

    private NDArray dense(ForwardPass pass, String module, NDArray x) {
        return pass.linear(module, x, w(module + ".weight"), w(module + ".bias"));
    }

    @Override
    public NDArray block(ForwardPass pass, int layer, NDArray x) {
        String p = prefixes[layer];
        int b = pass.batch();
        int t = pass.seqLen();
        int h = config.numHeads();
        int hd = config.headDim();
        int d = config.hiddenSize();

        NDArray q = dense(pass, p + "attention.self.query", x).reshape(b, t, h, hd).transpose(0, 2, 1, 3);
        NDArray k = dense(pass, p + "attention.self.key", x).reshape(b, t, h, hd).transpose(0, 2, 3, 1);
        NDArray v = dense(pass, p + "attention.self.value", x).reshape(b, t, h, hd).transpose(0, 2, 1, 3);
        NDArray scores = q.matMul(k).mul(pass.scalar((float) (1.0 / Math.sqrt(hd)))).add(pass.paddingMask());
        NDArray context = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, t, d);
        NDArray attended = layerNorm(dense(pass, p + "attention.output.dense", context).add(x), p + "attention.output.LayerNorm");

        NDArray inner = dense(pass, p + "intermediate.dense", attended).getNDArrayInternal().gelu();
        return layerNorm(dense(pass, p + "output.dense", inner).add(attended), p + "output.LayerNorm");
    }

    /** Post-LayerNorm blocks end normed: there is no final norm. */
    @Override
    public NDArray finalNorm(ForwardPass pass, NDArray x) {
        return x;
    }

    @Override
    public NDArray pool(ForwardPass pass, NDArray hidden) {
        int b = pass.batch();
        int t = pass.seqLen();
        float[] weights = new float[b * t];
        for (int i = 0; i < b; i++) {
            int n = pass.lengths()[i];
            if (hasPooler) {
                weights[i * t] = 1f;
            } else {
                for (int j = 0; j < n; j++) {
                    weights[i * t + j] = 1f / n;
                }
            }
        }
        // the mean over real tokens, or [CLS] alone
        NDArray pooled = weightedSum(pass, hidden, weights);
        if (!hasPooler) {
            return pooled;
        }
        return pooled.getNDArrayInternal().linear(pooled, w(POOLER + ".weight"), w(POOLER + ".bias")).singletonOrThrow().tanh();
    }

    @Override
    public NDArray lmLogits(ForwardPass pass, NDArray normed) {
        throw new UnsupportedOperationException("a BERT encoder has no language-modelling head; it classifies only");
    }

    @Override
    public List<LoraModule> loraModules(int layer, Set<LoraTarget> targets) {
        String p = prefixes[layer];
        int d = config.hiddenSize();
        List<LoraModule> out = new ArrayList<>();
        if (targets.contains(LoraTarget.Q)) {
            out.add(new LoraModule(p + "attention.self.query", d, d));
        }
        if (targets.contains(LoraTarget.K)) {
            out.add(new LoraModule(p + "attention.self.key", d, d));
        }
        if (targets.contains(LoraTarget.V)) {
            out.add(new LoraModule(p + "attention.self.value", d, d));
        }
        if (targets.contains(LoraTarget.O)) {
            out.add(new LoraModule(p + "attention.output.dense", d, d));
        }
        if (targets.contains(LoraTarget.MLP)) {
            out.add(new LoraModule(p + "intermediate.dense", d, config.intermediateSize()));
            out.add(new LoraModule(p + "output.dense", config.intermediateSize(), d));
        }
        return out;
    }
}
