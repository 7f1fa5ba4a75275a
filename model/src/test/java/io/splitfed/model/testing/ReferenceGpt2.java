package io.splitfed.model.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.splitfed.model.io.SafetensorsFile;
import io.splitfed.model.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * An independent GPT-2: plain loops in double precision straight from the Hugging Face tensors
 * (Conv1D weights used as stored, (in, out)), sharing no code with the DJL model. Only for tests.
 */
public final class ReferenceGpt2 {

    private final int vocab;
    private final int d;
    private final int layers;
    private final int heads;
    private final double eps;
    private final Map<String, float[]> w = new HashMap<>();

    public ReferenceGpt2(Path dir) throws IOException {
        JsonNode c = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        vocab = c.get("vocab_size").asInt();
        d = c.get("n_embd").asInt();
        layers = c.get("n_layer").asInt();
        heads = c.get("n_head").asInt();
        eps = c.path("layer_norm_epsilon").asDouble(1e-5);
        SafetensorsFile st = SafetensorsFile.open(dir.resolve("model.safetensors"));
        for (String name : st.names()) {
            String key = name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
            HostTensor t = st.read(name);
            w.put(key, t.data());
        }
    }

    /** Logits of every position, [T][vocab]. */
    public double[][] logits(int[] ids) {
        int t = ids.length;
        double[][] x = new double[t][d];
        for (int p = 0; p < t; p++) {
            for (int i = 0; i < d; i++) {
                x[p][i] = w.get("wte.weight")[ids[p] * d + i] + w.get("wpe.weight")[p * d + i];
            }
        }
        int hd = d / heads;
        for (int l = 0; l < layers; l++) {
            String p = "h." + l + ".";
            double[][] a = layerNorm(x, w.get(p + "ln_1.weight"), w.get(p + "ln_1.bias"));
            double[][] qkv = conv1d(a, w.get(p + "attn.c_attn.weight"), w.get(p + "attn.c_attn.bias"), 3 * d);
            double[][] attn = new double[t][d];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < t; i++) {
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double dot = 0;
                        for (int k = 0; k < hd; k++) {
                            dot += qkv[i][h * hd + k] * qkv[j][d + h * hd + k];
                        }
                        s[j] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int k = 0; k < hd; k++) {
                            attn[i][h * hd + k] += s[j] / sum * qkv[j][2 * d + h * hd + k];
                        }
                    }
                }
            }
            double[][] o = conv1d(attn, w.get(p + "attn.c_proj.weight"), w.get(p + "attn.c_proj.bias"), d);
            add(x, o);
            double[][] m = layerNorm(x, w.get(p + "ln_2.weight"), w.get(p + "ln_2.bias"));
            int inner = w.get(p + "mlp.c_fc.bias").length;
            double[][] hmid = conv1d(m, w.get(p + "mlp.c_fc.weight"), w.get(p + "mlp.c_fc.bias"), inner);
            for (double[] row : hmid) {
                for (int i = 0; i < row.length; i++) {
                    double v = row[i];
                    row[i] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                }
            }
            add(x, conv1d(hmid, w.get(p + "mlp.c_proj.weight"), w.get(p + "mlp.c_proj.bias"), d));
        }
        double[][] f = layerNorm(x, w.get("ln_f.weight"), w.get("ln_f.bias"));
        double[][] out = new double[t][vocab];
        float[] wte = w.get("wte.weight");
        for (int p = 0; p < t; p++) {
            for (int v = 0; v < vocab; v++) {
                double s = 0;
                for (int i = 0; i < d; i++) {
                    s += f[p][i] * wte[v * d + i];
                }
                out[p][v] = s;
            }
        }
        return out;
    }

    /** Greedy continuation of {@code prompt} by {@code n} tokens (prompt included in the result). */
    public int[] greedy(int[] prompt, int n) {
        int[] seq = java.util.Arrays.copyOf(prompt, prompt.length + n);
        for (int s = 0; s < n; s++) {
            int len = prompt.length + s;
            double[][] lg = logits(java.util.Arrays.copyOf(seq, len));
            double[] last = lg[len - 1];
            int best = 0;
            for (int v = 1; v < last.length; v++) {
                if (last[v] > last[best]) {
                    best = v;
                }
            }
            seq[len] = best;
        }
        return seq;
    }

    private double[][] layerNorm(double[][] x, float[] g, float[] b) {
        double[][] out = new double[x.length][d];
        for (int p = 0; p < x.length; p++) {
            double mean = 0;
            for (double v : x[p]) {
                mean += v;
            }
            mean /= d;
            double var = 0;
            for (double v : x[p]) {
                var += (v - mean) * (v - mean);
            }
            var /= d;
            for (int i = 0; i < d; i++) {
                out[p][i] = (x[p][i] - mean) / Math.sqrt(var + eps) * g[i] + b[i];
            }
        }
        return out;
    }

    private static double[][] conv1d(double[][] x, float[] weight, float[] bias, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int p = 0; p < x.length; p++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int i = 0; i < in; i++) {
                    s += x[p][i] * weight[i * out + o];
                }
                y[p][o] = s;
            }
        }
        return y;
    }

    private static void add(double[][] x, double[][] y) {
        for (int p = 0; p < x.length; p++) {
            for (int i = 0; i < x[p].length; i++) {
                x[p][i] += y[p][i];
            }
        }
    }
}
