package io.splitfed.model.lora;

import io.splitfed.model.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/** Folds an adapter into base weights: {@code W + (alpha / r) B A}, so inference needs no adapter. */
public final class LoraMerge {

    private LoraMerge() {}

    /**
     * Returns new base weights (internal (out, in) layout) with every adapted projection merged.
     * Fully trained tensors of the adapter (a classification head) are returned too.
     */
    public static Map<String, HostTensor> merge(Map<String, HostTensor> base, LoraAdapter adapter) {
        Map<String, HostTensor> out = new LinkedHashMap<>(base);
        for (String path : adapter.modulePaths()) {
            String key = path + ".weight";
            HostTensor w = base.get(key);
            if (w == null) {
                throw new IllegalArgumentException("base model has no projection " + key + " for the adapter");
            }
            HostTensor a = adapter.get(path + ".lora_A.weight");
            HostTensor b = adapter.get(path + ".lora_B.weight");
            int outF = w.shape()[0];
            int in = w.shape()[1];
            int r = a.shape()[0];
            if (a.shape()[1] != in || b.shape()[0] != outF || b.shape()[1] != r) {
                throw new IllegalArgumentException("adapter for " + path + " does not fit a weight of shape (" + outF + ", " + in + ")");
            }
            double s = adapter.scale(path);
            float[] merged = w.data().clone();
            float[] ad = a.data();
            float[] bd = b.data();
            for (int o = 0; o < outF; o++) {
                for (int k = 0; k < r; k++) {
                    double bok = s * bd[o * r + k];
                    if (bok == 0) {
                        continue;
                    }
                    int arow = k * in;
                    int wrow = o * in;
                    for (int i = 0; i < in; i++) {
                        merged[wrow + i] += (float) (bok * ad[arow + i]);
                    }
                }
            }
            out.put(key, new HostTensor(w.shape().clone(), merged));
        }
        for (String key : adapter.fullKeys()) {
            out.put(key, adapter.get(key).copy());
        }
        return out;
    }
}
