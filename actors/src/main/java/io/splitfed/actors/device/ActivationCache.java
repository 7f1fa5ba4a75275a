package io.splitfed.actors.device;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SplitFrozen's device part never changes, so a sample's cut activations never change either:
 * after the first epoch they are read from here and the device computes nothing. Keeps each
 * sample's real (unpadded) rows in fp32, up to a byte budget; samples past the budget are
 * recomputed.
 */
public final class ActivationCache {

    private final long maxBytes;
    private final int hidden;
    private final Map<Long, float[]> rows = new HashMap<>();
    private long bytes;

    public ActivationCache(long maxBytes, int hidden) {
        this.maxBytes = maxBytes;
        this.hidden = hidden;
    }

    public boolean containsAll(TokenBatch batch) {
        for (long id : batch.sampleIds()) {
            if (!rows.containsKey(id)) {
                return false;
            }
        }
        return true;
    }

    /** The (batch, T, hidden) fp32 values for a batch whose samples are all cached; padding is zero. */
    public float[] assemble(TokenBatch batch) {
        int t = batch.seqLen();
        float[] out = new float[batch.batch() * t * hidden];
        for (int i = 0; i < batch.batch(); i++) {
            float[] r = rows.get(batch.sampleIds()[i]);
            System.arraycopy(r, 0, out, i * t * hidden, r.length);
        }
        return out;
    }

    /** Keeps the real rows of each sample of an fp32 (batch, T, hidden) payload, within the budget. */
    public void store(TokenBatch batch, TensorPayload f32) {
        if (f32.encoding() != TensorPayload.Encoding.F32) {
            throw new IllegalArgumentException("the cache keeps fp32 activations");
        }
        float[] all = WireCodec.toFloats(f32);
        int t = batch.seqLen();
        for (int i = 0; i < batch.batch(); i++) {
            long id = batch.sampleIds()[i];
            int n = batch.lengths()[i] * hidden;
            if (rows.containsKey(id) || bytes + 4L * n > maxBytes) {
                continue;
            }
            float[] r = new float[n];
            System.arraycopy(all, i * t * hidden, r, 0, n);
            rows.put(id, r);
            bytes += 4L * n;
        }
    }

    /** Forgets everything (the device moved its split point, so its activations changed). */
    public void clear() {
        rows.clear();
        bytes = 0;
    }

    public long bytes() {
        return bytes;
    }

    public int samples() {
        return rows.size();
    }

    /** Drops samples no longer in use. */
    public void retainOnly(List<Long> ids) {
        rows.keySet().retainAll(new java.util.HashSet<>(ids));
        bytes = rows.values().stream().mapToLong(r -> 4L * r.length).sum();
    }
}
