package io.splitfed.model.testing;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;

import java.util.Map;
import java.util.SplittableRandom;

/** Batches and adapters for model tests. */
public final class TestModels {

    private TestModels() {}

    /** A right-padded classification batch of rows with the given lengths and random ids below {@code vocab}. */
    public static TokenBatch classificationBatch(int vocab, int[] lengths, int[] labels, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int b = lengths.length;
        int t = 0;
        for (int l : lengths) {
            t = Math.max(t, l);
        }
        int[] ids = new int[b * t];
        long[] sampleIds = new long[b];
        for (int i = 0; i < b; i++) {
            for (int p = 0; p < t; p++) {
                ids[i * t + p] = p < lengths[i] ? rng.nextInt(vocab) : 0;
            }
            sampleIds[i] = i;
        }
        return new TokenBatch(b, t, ids, lengths.clone(), labels.clone(), null, null, sampleIds);
    }

    /** Gives every LoRA B random values, so gradients reach A and outputs move. */
    public static LoraAdapter perturbed(LoraAdapter adapter, double std, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        LoraAdapter out = adapter.copy();
        for (Map.Entry<String, HostTensor> e : out.tensors().entrySet()) {
            if (e.getKey().endsWith(".lora_B.weight")) {
                float[] d = e.getValue().data();
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) (std * (rng.nextDouble() * 2 - 1));
                }
            }
        }
        return out;
    }
}
