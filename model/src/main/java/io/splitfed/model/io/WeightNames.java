package io.splitfed.model.io;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.config.ModelFamily;

import java.util.LinkedHashMap;
import java.util.Map;

/** The module paths and (out, in) shapes of every base weight, per family. */
public final class WeightNames {

    private WeightNames() {}

    public static String blockPrefix(ModelFamily family, int layer) {
        return switch (family) {
            case GPT2 -> "transformer.h." + layer + ".";
            case LLAMA -> "model.layers." + layer + ".";
            case BERT -> "encoder.layer." + layer + ".";
        };
    }

    public static Map<String, int[]> expectedShapes(ModelConfig c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        int d = c.hiddenSize();
        if (c.family() == ModelFamily.BERT) {
            m.put("embeddings.word_embeddings.weight", new int[] {c.vocabSize(), d});
            m.put("embeddings.position_embeddings.weight", new int[] {c.maxPositions(), d});
            m.put("embeddings.LayerNorm.weight", new int[] {d});
            m.put("embeddings.LayerNorm.bias", new int[] {d});
            for (int l = 0; l < c.numLayers(); l++) {
                String p = blockPrefix(c.family(), l);
                for (String proj : new String[] {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
                    m.put(p + proj + ".weight", new int[] {d, d});
                    m.put(p + proj + ".bias", new int[] {d});
                }
                m.put(p + "attention.output.LayerNorm.weight", new int[] {d});
                m.put(p + "attention.output.LayerNorm.bias", new int[] {d});
                m.put(p + "intermediate.dense.weight", new int[] {c.intermediateSize(), d});
                m.put(p + "intermediate.dense.bias", new int[] {c.intermediateSize()});
                m.put(p + "output.dense.weight", new int[] {d, c.intermediateSize()});
                m.put(p + "output.dense.bias", new int[] {d});
                m.put(p + "output.LayerNorm.weight", new int[] {d});
                m.put(p + "output.LayerNorm.bias", new int[] {d});
            }
        } else if (c.family() == ModelFamily.GPT2) {
            m.put("transformer.wte.weight", new int[] {c.vocabSize(), d});
            m.put("transformer.wpe.weight", new int[] {c.maxPositions(), d});
            for (int l = 0; l < c.numLayers(); l++) {
                String p = blockPrefix(c.family(), l);
                m.put(p + "ln_1.weight", new int[] {d});
                m.put(p + "ln_1.bias", new int[] {d});
                m.put(p + "attn.c_attn.weight", new int[] {3 * d, d});
                m.put(p + "attn.c_attn.bias", new int[] {3 * d});
                m.put(p + "attn.c_proj.weight", new int[] {d, d});
                m.put(p + "attn.c_proj.bias", new int[] {d});
                m.put(p + "ln_2.weight", new int[] {d});
                m.put(p + "ln_2.bias", new int[] {d});
                m.put(p + "mlp.c_fc.weight", new int[] {c.intermediateSize(), d});
                m.put(p + "mlp.c_fc.bias", new int[] {c.intermediateSize()});
                m.put(p + "mlp.c_proj.weight", new int[] {d, c.intermediateSize()});
                m.put(p + "mlp.c_proj.bias", new int[] {d});
            }
            m.put("transformer.ln_f.weight", new int[] {d});
            m.put("transformer.ln_f.bias", new int[] {d});
            if (!c.tiedEmbeddings()) {
                m.put("lm_head.weight", new int[] {c.vocabSize(), d});
            }
        } else {
            m.put("model.embed_tokens.weight", new int[] {c.vocabSize(), d});
            for (int l = 0; l < c.numLayers(); l++) {
                String p = blockPrefix(c.family(), l);
                m.put(p + "input_layernorm.weight", new int[] {d});
                m.put(p + "self_attn.q_proj.weight", new int[] {c.qDim(), d});
                m.put(p + "self_attn.k_proj.weight", new int[] {c.kvDim(), d});
                m.put(p + "self_attn.v_proj.weight", new int[] {c.kvDim(), d});
                m.put(p + "self_attn.o_proj.weight", new int[] {d, c.qDim()});
                m.put(p + "post_attention_layernorm.weight", new int[] {d});
                m.put(p + "mlp.gate_proj.weight", new int[] {c.intermediateSize(), d});
                m.put(p + "mlp.up_proj.weight", new int[] {c.intermediateSize(), d});
                m.put(p + "mlp.down_proj.weight", new int[] {d, c.intermediateSize()});
            }
            m.put("model.norm.weight", new int[] {d});
            if (!c.tiedEmbeddings()) {
                m.put("lm_head.weight", new int[] {c.vocabSize(), d});
            }
        }
        return m;
    }
}
