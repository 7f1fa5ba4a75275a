package io.splitfed.model.data;

/**
 * A right-padded micro-batch of token ids, engine-neutral so it can cross actors and the wire.
 *
 * @param ids {@code batch * seqLen} row-major token ids, padding included
 * @param lengths real (unpadded) length of each row, at least 1
 * @param labels class labels for classification, or null
 * @param targets next-token targets ({@code batch * seqLen}) for language modelling, or null
 * @param lossMask 1 where {@code targets} count towards the loss, or null
 * @param sampleIds the data set index of each row, for caching and exactly-once accounting
 */
public record TokenBatch(int batch, int seqLen, int[] ids, int[] lengths, int[] labels, int[] targets, float[] lossMask, long[] sampleIds) {

    public TokenBatch {
        if (ids.length != batch * seqLen) {
            throw new IllegalArgumentException("ids holds " + ids.length + " tokens, batch " + batch + " x " + seqLen + " needs " + batch * seqLen);
        }
        if (lengths.length != batch || sampleIds.length != batch) {
            throw new IllegalArgumentException("lengths and sampleIds need one entry per row");
        }
        if (labels != null && labels.length != batch) {
            throw new IllegalArgumentException("labels need one entry per row");
        }
        if (targets != null && (targets.length != ids.length || lossMask == null || lossMask.length != ids.length)) {
            throw new IllegalArgumentException("targets and lossMask need one entry per token");
        }
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
