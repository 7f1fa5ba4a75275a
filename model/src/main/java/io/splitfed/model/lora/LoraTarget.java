package io.splitfed.model.lora;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which projections get an adapter. On GPT-2, Q, K and V share the fused {@code c_attn}, so any of
 * them adapts {@code c_attn} as a whole, the way PEFT does; on Llama and BERT each has its own
 * projection. On BERT, O is {@code attention.output.dense} and MLP the {@code intermediate.dense}
 * and {@code output.dense} pair.
 */
public enum LoraTarget {
    Q, K, V, O, MLP;

    /** Parses "q,v", "q,k,v,o,mlp", "all", or PEFT module names such as "c_attn" and "q_proj". */
    public static Set<LoraTarget> parse(String spec) {
        EnumSet<LoraTarget> out = EnumSet.noneOf(LoraTarget.class);
        for (String raw : spec.split("[,\\s]+")) {
            String s = raw.trim().toLowerCase(Locale.ROOT);
            if (s.isEmpty()) {
                continue;
            }
            switch (s) {
                case "all" -> out.addAll(EnumSet.allOf(LoraTarget.class));
                case "attn", "attention" -> out.addAll(EnumSet.of(Q, K, V, O));
                case "q", "q_proj", "query" -> out.add(Q);
                case "k", "k_proj", "key" -> out.add(K);
                case "v", "v_proj", "value" -> out.add(V);
                case "c_attn", "qkv" -> out.addAll(EnumSet.of(Q, K, V));
                case "o", "o_proj", "c_proj", "out" -> out.add(O);
                case "mlp", "ffn", "c_fc", "gate_proj", "up_proj", "down_proj", "intermediate" -> out.add(MLP);
                default -> throw new IllegalArgumentException(
                        "unknown LoRA target '" + raw + "'; expected q, k, v, o, mlp, all, or a PEFT module name (c_attn, q_proj, ...)");
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no LoRA target in '" + spec + "'");
        }
        return out;
    }
}
