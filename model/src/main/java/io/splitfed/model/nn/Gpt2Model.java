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

/** GPT-2: learned positions, pre-LayerNorm blocks with fused QKV, gelu_new MLP, tied LM head. */
final class Gpt2Model extends TransformerModel {

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    private final String[][] names;

    Gpt2Model(ModelConfig config, NDManager manager, Map<String, HostTensor> tensors) {
        super(config, manager, tensors);
        names = new String[config.numLayers()][];
        for (int l = 0; l < config.numLayers(); l++) {
            String p = WeightNames.blockPrefix(config.family(), l);
            names[l] = new String[] {
                p + "ln_1.weight", p + "ln_1.bias", p + "attn.c_attn", p + "attn.c_proj",
                p + "ln_2.weight", p + "ln_2.bias", p + "mlp.c_fc", p + "mlp.c_proj"
            };
        }
    }

    @Override
    protected String embeddingName() {
        return "transformer.wte.weight";
    }

    @Override
    public NDArray embed(ForwardPass pass, NDArray ids) {
        return lookup(ids, "transformer.wte.weight").add(positions(pass, "transformer.wpe.weight", "n_positions"));
    }

    private NDArray layerNorm(NDArray x, String weight, String bias) {
        return x.getNDArrayInternal()
                .layerNorm(x, new Shape(config.hiddenSize()), w(weight), w(bias), (float) config.normEps())
                .singletonOrThrow();
    }

    @Override
    public NDArray block(ForwardPass pass, int layer, NDArray x) {
        String[] n = names[layer];
        int b = pass.batch();
        int t = pass.seqLen();
        int h = config.numHeads();
        int hd = config.headDim();
        int d = config.hiddenSize();

        NDArray a = layerNorm(x, n[0], n[1]);
        NDArray qkv = pass.linear(n[2], a, w(n[2] + ".weight"), w(n[2] + ".bias"));
        NDList parts = qkv.reshape(b, t, 3, h, hd).transpose(2, 0, 3, 1, 4).split(3, 0);
        NDArray q = parts.get(0).squeeze(0);
        NDArray k = parts.get(1).squeeze(0);
        NDArray v = parts.get(2).squeeze(0);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(pass.scalar((float) (1.0 / Math.sqrt(hd)))).add(pass.attentionMask());
        NDArray attn = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, t, d);
        NDArray o = pass.linear(n[3], attn, w(n[3] + ".weight"), w(n[3] + ".bias"));
        NDArray x1 = x.add(o);

        NDArray m = layerNorm(x1, n[4], n[5]);
        m = pass.linear(n[6], m, w(n[6] + ".weight"), w(n[6] + ".bias"));
        m = activation(pass, m);
        m = pass.linear(n[7], m, w(n[7] + ".weight"), w(n[7] + ".bias"));
        return x1.add(m);
    }

    private NDArray activation(ForwardPass pass, NDArray x) {
        return switch (config.activation()) {
            case "gelu" -> x.getNDArrayInternal().gelu();
            case "relu" -> x.getNDArrayInternal().relu();
            default -> {
                // gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
                NDArray inner = x.mul(x).mul(x).mul(pass.scalar(0.044715f)).add(x).mul(pass.scalar((float) SQRT_2_OVER_PI));
                yield x.mul(inner.tanh().add(pass.scalar(1f))).mul(pass.scalar(0.5f));
            }
        };
    }

    @Override
    public NDArray finalNorm(ForwardPass pass, NDArray x) {
        return layerNorm(x, "transformer.ln_f.weight", "transformer.ln_f.bias");
    }

    @Override
    public List<LoraModule> loraModules(int layer, Set<LoraTarget> targets) {
        String p = WeightNames.blockPrefix(config.family(), layer);
        int d = config.hiddenSize();
        List<LoraModule> out = new ArrayList<>();
        if (targets.contains(LoraTarget.Q) || targets.contains(LoraTarget.K) || targets.contains(LoraTarget.V)) {
            out.add(new LoraModule(p + "attn.c_attn", d, 3 * d));
        }
        if (targets.contains(LoraTarget.O)) {
            out.add(new LoraModule(p + "attn.c_proj", d, d));
        }
        if (targets.contains(LoraTarget.MLP)) {
            out.add(new LoraModule(p + "mlp.c_fc", d, config.intermediateSize()));
            out.add(new LoraModule(p + "mlp.c_proj", config.intermediateSize(), d));
        }
        return out;
    }
}
