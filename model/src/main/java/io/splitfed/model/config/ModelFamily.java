package io.splitfed.model.config;

/** The decoder-only architectures splitfed can split and fine-tune. */
public enum ModelFamily {
    /** GPT-2: learned positions, LayerNorm, fused c_attn, gelu_new MLP, tied head. */
    GPT2,
    /** Llama: RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention. */
    LLAMA
}
