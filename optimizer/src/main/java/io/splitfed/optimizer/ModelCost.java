package io.splitfed.optimizer;

/**
 * What a decoder-only model costs per training sample, as a function of the split point, the LoRA
 * rank and the bit-width on the wire: FLOPs on each side, and bytes across the cut.
 *
 * <p>Per token and block, a forward pass is {@code 2 (4 d^2 + 3 d f) + 4 T d} FLOPs (attention
 * projections, a SwiGLU MLP, and attention over {@code T} positions), plus {@code 2 r (d_in +
 * d_out)} for each of the {@code 7} LoRA-adapted matrices. Training a block with LoRA costs
 * about three forward passes (the forward, the input gradient and the adapter gradients); a
 * frozen block one.
 *
 * @param layers transformer blocks
 * @param hidden model width d
 * @param ffn MLP width f
 * @param vocab vocabulary (the head)
 * @param seqLen tokens per sample
 */
public record ModelCost(int layers, int hidden, int ffn, int vocab, int seqLen) {

    /** Forward FLOPs of one block for one sample, with LoRA of rank {@code rank} (0: none). */
    public double blockForward(int rank) {
        double d = hidden;
        double perToken = 2 * (4 * d * d + 3 * d * ffn) + 4.0 * seqLen * d;
        double lora = rank == 0 ? 0 : 2.0 * rank * (4 * (d + d) + 2 * (d + ffn) + (ffn + d));
        return seqLen * (perToken + lora);
    }

    /** The head (classifier or LM head over the last position for classification: one row). */
    public double headForward() {
        return 2.0 * hidden * vocab;
    }

    /** A device's FLOPs per sample up to split point {@code k}: trained with LoRA (SFL) or frozen (SplitFrozen). */
    public double deviceFlops(int k, int rank, boolean trained) {
        return k * blockForward(trained ? rank : 0) * (trained ? 3 : 1);
    }

    /** The server's FLOPs per sample from split point {@code k}: blocks and head, trained with LoRA. */
    public double serverFlops(int k, int rank) {
        return ((layers - k) * blockForward(rank) + headForward()) * 3;
    }

    /** Bytes across the cut per sample at {@code bits} per value (8 and 4 carry a float scale per token). */
    public double cutBytes(int bits) {
        double values = (double) seqLen * hidden;
        double scales = bits < 16 ? 4.0 * seqLen : 0;
        return values * bits / 8.0 + scales;
    }

    /** Bytes of the LoRA adapter on {@code blocks} blocks at rank {@code rank}, fp32. */
    public double adapterBytes(int blocks, int rank) {
        double d = hidden;
        return 4.0 * blocks * rank * (4 * (d + d) + 2 * (d + ffn) + (ffn + d));
    }
}
