package io.splitfed.model.config;

/**
 * The shape of a transformer (a GPT-2 or Llama decoder, or a BERT encoder), whichever file it came from.
 *
 * @param headDim per-head width; {@code hiddenSize / numHeads} unless a checkpoint says otherwise
 * @param activation the MLP activation, in Hugging Face's names ({@code gelu_new}, {@code silu}, ...)
 * @param ropeScaling null for plain rotary positions (and for GPT-2)
 */
public record ModelConfig(
        ModelFamily family,
        int vocabSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int intermediateSize,
        int maxPositions,
        double normEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tiedEmbeddings,
        String activation) {

    public ModelConfig {
        require(vocabSize > 0, "vocab_size must be positive");
        require(hiddenSize > 0, "hidden size must be positive");
        require(numLayers > 0, "number of layers must be positive");
        require(numHeads > 0 && numKvHeads > 0, "head counts must be positive");
        require(numHeads % numKvHeads == 0, "num_attention_heads must be a multiple of num_key_value_heads");
        require(headDim > 0 && headDim % 2 == 0 || family != ModelFamily.LLAMA, "head_dim must be even for rotary positions");
        require(intermediateSize > 0, "intermediate size must be positive");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** GPT-2 with Hugging Face's defaults for the fields a config may leave out. */
    public static ModelConfig gpt2(int vocab, int embd, int layers, int heads, int positions) {
        return new ModelConfig(
                ModelFamily.GPT2, vocab, embd, layers, heads, heads, embd / heads, 4 * embd, positions,
                1e-5, 0, null, true, "gelu_new");
    }

    /** A Llama of the given shape with a 10000 rotary base and RMSNorm eps 1e-5. */
    public static ModelConfig llama(int vocab, int dim, int hidden, int layers, int heads, int kvHeads, int positions, boolean tied) {
        return new ModelConfig(
                ModelFamily.LLAMA, vocab, dim, layers, heads, kvHeads, dim / heads, hidden, positions,
                1e-5, 10000, null, tied, "silu");
    }

    /**
     * A BERT encoder: post-LayerNorm blocks with erf GELU, {@code maxPositions} learned positions and
     * LayerNorm eps {@code normEps} (1e-12 in Hugging Face's BertConfig).
     */
    public static ModelConfig bert(int vocab, int hidden, int layers, int heads, int intermediate, int positions, double normEps) {
        return new ModelConfig(
                ModelFamily.BERT, vocab, hidden, layers, heads, heads, hidden / heads, intermediate, positions,
                normEps, 0, null, false, "gelu");
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    public int qDim() {
        return numHeads * headDim;
    }

    /** Parameters in the frozen base (embeddings, blocks, norms, untied head). */
    public long parameterCount() {
        long embed = (long) vocabSize * hiddenSize;
        long perBlock;
        if (family == ModelFamily.BERT) {
            // q, k, v, attention output and two dense layers with biases, two LayerNorms; word,
            // position and two token-type embeddings with their LayerNorm
            perBlock = 4L * hiddenSize * hiddenSize + 4L * hiddenSize
                    + 2L * hiddenSize * intermediateSize + intermediateSize + hiddenSize + 4L * hiddenSize;
            return embed + (long) maxPositions * hiddenSize + 2L * hiddenSize + 2L * hiddenSize + numLayers * perBlock;
        }
        if (family == ModelFamily.GPT2) {
            perBlock = 4L * hiddenSize + (long) hiddenSize * 3 * hiddenSize + 3L * hiddenSize
                    + (long) hiddenSize * hiddenSize + hiddenSize
                    + 2L * hiddenSize * intermediateSize + intermediateSize + hiddenSize;
            embed += (long) maxPositions * hiddenSize;
        } else {
            perBlock = 2L * hiddenSize + (long) hiddenSize * qDim() + 2L * hiddenSize * kvDim()
                    + (long) qDim() * hiddenSize + 3L * hiddenSize * intermediateSize;
        }
        long head = tiedEmbeddings ? 0 : (long) vocabSize * hiddenSize;
        return embed + numLayers * perBlock + 2L * hiddenSize + head;
    }

    /** One block's forward on {@code rows} sequences padded to {@code seqLen} tokens: the FLOPs every step counts. */
    public double blockFlops(int rows, int seqLen) {
        return (double) rows * seqLen * blockFlopsPerToken(seqLen);
    }

    /** Multiply-accumulates times two for one block on one token with a context of {@code context} tokens. */
    public double blockFlopsPerToken(int context) {
        double d = hiddenSize;
        double linear = d * qDim() + 2 * d * kvDim() + qDim() * d;
        double mlp = family != ModelFamily.LLAMA ? 2 * d * intermediateSize : 3 * d * intermediateSize;
        double attention = 2.0 * numHeads * headDim * context;
        return 2 * (linear + mlp) + 2 * attention;
    }
}
