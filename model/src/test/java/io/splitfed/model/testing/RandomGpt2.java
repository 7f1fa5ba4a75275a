package io.splitfed.model.testing;

import io.splitfed.model.io.SafetensorsFile;
import io.splitfed.model.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a randomly initialised GPT-2 in Hugging Face's layout (config.json, model.safetensors with
 * Conv1D weights stored (in, out) under {@code transformer.*}), as {@code save_pretrained} would.
 */
public final class RandomGpt2 {

    private RandomGpt2() {}

    public static Path write(Path dir, int vocab, int embd, int layers, int heads, int positions, long seed) throws IOException {
        Files.createDirectories(dir);
        String config = """
                {
                  "model_type": "gpt2",
                  "architectures": ["GPT2LMHeadModel"],
                  "activation_function": "gelu_new",
                  "vocab_size": %d,
                  "n_embd": %d,
                  "n_layer": %d,
                  "n_head": %d,
                  "n_inner": null,
                  "n_positions": %d,
                  "layer_norm_epsilon": 1e-05,
                  "torch_dtype": "float32"
                }
                """.formatted(vocab, embd, layers, heads, positions);
        Files.writeString(dir.resolve("config.json"), config);
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("transformer.wte.weight", random(rng, 0.1, vocab, embd));
        t.put("transformer.wpe.weight", random(rng, 0.05, positions, embd));
        for (int l = 0; l < layers; l++) {
            String p = "transformer.h." + l + ".";
            t.put(p + "ln_1.weight", around(rng, 1.0, 0.1, embd));
            t.put(p + "ln_1.bias", random(rng, 0.05, embd));
            t.put(p + "attn.c_attn.weight", random(rng, 0.15, embd, 3 * embd));
            t.put(p + "attn.c_attn.bias", random(rng, 0.05, 3 * embd));
            t.put(p + "attn.c_proj.weight", random(rng, 0.1, embd, embd));
            t.put(p + "attn.c_proj.bias", random(rng, 0.05, embd));
            t.put(p + "ln_2.weight", around(rng, 1.0, 0.1, embd));
            t.put(p + "ln_2.bias", random(rng, 0.05, embd));
            t.put(p + "mlp.c_fc.weight", random(rng, 0.1, embd, 4 * embd));
            t.put(p + "mlp.c_fc.bias", random(rng, 0.05, 4 * embd));
            t.put(p + "mlp.c_proj.weight", random(rng, 0.05, 4 * embd, embd));
            t.put(p + "mlp.c_proj.bias", random(rng, 0.05, embd));
        }
        t.put("transformer.ln_f.weight", around(rng, 1.0, 0.1, embd));
        t.put("transformer.ln_f.bias", random(rng, 0.05, embd));
        SafetensorsFile.write(dir.resolve("model.safetensors"), t, Map.of("format", "pt"));
        return dir;
    }

    private static HostTensor random(SplittableRandom rng, double std, int... shape) {
        HostTensor t = HostTensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (std * (rng.nextDouble() * 2 - 1) * Math.sqrt(3));
        }
        return t;
    }

    private static HostTensor around(SplittableRandom rng, double mean, double std, int... shape) {
        HostTensor t = random(rng, std, shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] += (float) mean;
        }
        return t;
    }
}
