package io.splitfed.model.config;

/** The transformer architectures splitfed can split and fine-tune. */
public enum ModelFamily {
    /** GPT-2: learned positions, LayerNorm, fused c_attn, gelu_new MLP, tied head. */
    GPT2,
    /** Llama: RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention. */
    LLAMA,
    /**
     * BERT-family encoders (bert-base, MiniLM, e5, bge): learned positions and token types,
     * post-LayerNorm blocks, erf GELU, bidirectional attention. Classifies only.
     */
    BERT;

    /** True for causal decoders, which generate text; false for encoders, which only classify. */
    public boolean isDecoder() {
        return this != BERT;
    }
}
