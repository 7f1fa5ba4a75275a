package io.splitfed.model.data;

/**
 * A right-padded micro-batch of token ids, engine-neutral so it can cross actors and the wire.
 *
 * @param ids {@code batch * seqLen} row-major token ids, padding included; null on the server side of
 *     a split, where raw tokens never arrive
 * @param lengths real (unpadded) length of each row, at least 1
 * @param labels class labels for classification, or null
 * @param targets next-token targets ({@code batch * seqLen}) for language modelling, or null
 * @param lossMask 1 where {@code targets} count towards the loss, or null
 * @param sampleIds the data set index of each row, for caching and exactly-once accounting
 * @param tokenTypes BERT's segment ids ({@code batch * seqLen}: 0 for the first text, 1 for the
 *     second of a pair), or null where every token is of type 0; like ids, they stay on the device
 */
public record TokenBatch(int batch, int seqLen, int[] ids, int[] lengths, int[] labels, int[] targets, float[] lossMask, long[] sampleIds,
        int[] tokenTypes) {

    /** A batch whose tokens are all of type 0 (single texts, and every decoder batch). */
    public TokenBatch(int batch, int seqLen, int[] ids, int[] lengths, int[] labels, int[] targets, float[] lossMask, long[] sampleIds) {
        this(batch, seqLen, ids, lengths, labels, targets, lossMask, sampleIds, null);
    }

    public TokenBatch {
        if (ids != null && ids.length != batch * seqLen) {
            throw new IllegalArgumentException("ids holds " + ids.length + " tokens, batch " + batch + " x " + seqLen + " needs " + batch * seqLen);
        }
        if (lengths.length != batch || sampleIds.length != batch) {
            throw new IllegalArgumentException("lengths and sampleIds need one entry per row");
        }
        if (labels != null && labels.length != batch) {
            throw new IllegalArgumentException("labels need one entry per row");
        }
        if (tokenTypes != null && tokenTypes.length != batch * seqLen) {
            throw new IllegalArgumentException("tokenTypes holds " + tokenTypes.length + " entries, batch " + batch + " x " + seqLen + " needs " + batch * seqLen);
        }
        if (targets != null && (targets.length != batch * seqLen || lossMask == null || lossMask.length != batch * seqLen)) {
            throw new IllegalArgumentException("targets and lossMask need one entry per token");
        }
    }

    /** The same batch without its token ids: what a device sends along with cut activations. */
    public TokenBatch withoutTokens() {
        return new TokenBatch(batch, seqLen, null, lengths, labels, targets, lossMask, sampleIds, null);
    }

    /**
     * The same batch without token ids, labels or targets: what a device sends in a U-shaped split,
     * where the head and the loss stay on the device.
     */
    public TokenBatch withoutTokensOrLabels() {
        return new TokenBatch(batch, seqLen, null, lengths, null, null, null, sampleIds, null);
    }

    /** Number of real (unpadded) tokens. */
    public long tokenCount() {
        long n = 0;
        for (int l : lengths) {
            n += l;
        }
        return n;
    }
}
