package io.splitfed.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.io.WeightNames;
import io.splitfed.model.lora.LoraModule;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Llama: RMSNorm, rotary positions in Hugging Face's half-split layout, SwiGLU MLP and
 * grouped-query attention (queries grouped per key/value head, so keys are never copied).
 */
final class LlamaModel extends TransformerModel {

    private final String[][] names;
    private final double[] invFreq;

    LlamaModel(ModelConfig config, NDManager manager, Map<String, HostTensor> tensors) {
        super(config, manager, tensors);
        names = new String[config.numLayers()][];
        for (int l = 0; l < config.numLayers(); l++) {
            String p = WeightNames.blockPrefix(config.family(), l);
            names[l] = new String[] {
                p + "input_layernorm.weight", p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj",
                p + "self_attn.o_proj", p + "post_attention_layernorm.weight", p + "mlp.gate_proj", p + "mlp.up_proj",
                p + "mlp.down_proj"
            };
        }
        int half = config.headDim() / 2;
        double[] f = new double[half];
        for (int i = 0; i < half; i++) {
            f[i] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.headDim());
        }
        invFreq = config.ropeScaling() == null ? f : config.ropeScaling().apply(f);
    }

    @Override
    protected String embeddingName() {
        return "model.embed_tokens.weight";
    }

    @Override
    public NDArray embed(ForwardPass pass, NDArray ids) {
        return lookup(ids, "model.embed_tokens.weight");
    }

    private NDArray rmsNorm(ForwardPass pass, NDArray x, String weight) {
        NDArray inv = x.square().mean(new int[] {-1}, true).add(pass.scalar((float) config.normEps())).sqrt();
        return x.div(inv).mul(w(weight));
    }

    /** cos and sin tables (T, headDim), computed in double precision as the reference does. */
    private NDArray[] rotaryTables(ForwardPass pass) {
        int t = pass.seqLen();
        int hd = config.headDim();
        int half = hd / 2;
        float[] cos = new float[t * hd];
        float[] sin = new float[t * hd];
        for (int p = 0; p < t; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * invFreq[i];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[p * hd + i] = c;
                cos[p * hd + half + i] = c;
                sin[p * hd + i] = s;
                sin[p * hd + half + i] = s;
            }
        }
        return new NDArray[] {pass.manager().create(cos, new Shape(t, hd)), pass.manager().create(sin, new Shape(t, hd))};
    }

    private static NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
        NDList halves = x.split(2, 3);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
        return x.mul(cos).add(rotated.mul(sin));
    }

    @Override
    public NDArray block(ForwardPass pass, int layer, NDArray x) {
        String[] n = names[layer];
        int b = pass.batch();
        int t = pass.seqLen();
        int h = config.numHeads();
        int kv = config.numKvHeads();
        int rep = h / kv;
        int hd = config.headDim();
        NDArray[] rope = pass.rotary(() -> rotaryTables(pass));

        NDArray a = rmsNorm(pass, x, n[0]);
        NDArray q = pass.linear(n[1], a, w(n[1] + ".weight"), null).reshape(b, t, h, hd).transpose(0, 2, 1, 3);
        NDArray k = pass.linear(n[2], a, w(n[2] + ".weight"), null).reshape(b, t, kv, hd).transpose(0, 2, 1, 3);
        NDArray v = pass.linear(n[3], a, w(n[3] + ".weight"), null).reshape(b, t, kv, hd).transpose(0, 2, 1, 3);
        q = rotate(q, rope[0], rope[1]);
        k = rotate(k, rope[0], rope[1]);

        NDArray attn;
        if (rep == 1) {
            NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(pass.scalar((float) (1.0 / Math.sqrt(hd)))).add(pass.attentionMask());
            attn = scores.softmax(-1).matMul(v);
        } else {
            NDArray qg = q.reshape(b, kv, rep, t, hd);
            NDArray kg = k.expandDims(2);
            NDArray vg = v.expandDims(2);
            NDArray scores = qg.matMul(kg.transpose(0, 1, 2, 4, 3)).mul(pass.scalar((float) (1.0 / Math.sqrt(hd)))).add(pass.attentionMask().expandDims(1));
            attn = scores.softmax(-1).matMul(vg).reshape(b, h, t, hd);
        }
        NDArray merged = attn.transpose(0, 2, 1, 3).reshape(b, t, h * hd);
        NDArray x1 = x.add(pass.linear(n[4], merged, w(n[4] + ".weight"), null));

        NDArray m = rmsNorm(pass, x1, n[5]);
        NDArray gate = pass.linear(n[6], m, w(n[6] + ".weight"), null);
        NDArray up = pass.linear(n[7], m, w(n[7] + ".weight"), null);
        NDArray act = gate.mul(gate.getNDArrayInternal().sigmoid()).mul(up);
        return x1.add(pass.linear(n[8], act, w(n[8] + ".weight"), null));
    }

    @Override
    public NDArray finalNorm(ForwardPass pass, NDArray x) {
        return rmsNorm(pass, x, "model.norm.weight");
    }

    @Override
    public List<LoraModule> loraModules(int layer, Set<LoraTarget> targets) {
        String p = WeightNames.blockPrefix(config.family(), layer);
        int d = config.hiddenSize();
        List<LoraModule> out = new ArrayList<>();
        if (targets.contains(LoraTarget.Q)) {
            out.add(new LoraModule(p + "self_attn.q_proj", d, config.qDim()));
        }
        if (targets.contains(LoraTarget.K)) {
            out.add(new LoraModule(p + "self_attn.k_proj", d, config.kvDim()));
        }
        if (targets.contains(LoraTarget.V)) {
            out.add(new LoraModule(p + "self_attn.v_proj", d, config.kvDim()));
        }
        if (targets.contains(LoraTarget.O)) {
            out.add(new LoraModule(p + "self_attn.o_proj", config.qDim(), d));
        }
        if (targets.contains(LoraTarget.MLP)) {
            out.add(new LoraModule(p + "mlp.gate_proj", d, config.intermediateSize()));
            out.add(new LoraModule(p + "mlp.up_proj", d, config.intermediateSize()));
            out.add(new LoraModule(p + "mlp.down_proj", config.intermediateSize(), d));
        }
        return out;
    }
}
