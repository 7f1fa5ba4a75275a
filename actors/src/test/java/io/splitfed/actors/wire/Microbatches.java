package io.splitfed.actors.wire;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

/** Micro-batches of a given size for the wire's tests. */
public final class Microbatches {

    private Microbatches() {}

    /** A device's micro-batch numbered {@code seq}, carrying {@code floats} fp32 activations (4 bytes each). */
    public static ServerShard.Forward forward(long seq, int floats) {
        float[] v = new float[floats];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i + seq) * 1e-3f;
        }
        TokenBatch batch = new TokenBatch(1, 4, new int[4], new int[] {4}, new int[1], null, null, new long[1]);
        return new ServerShard.Forward(3, 2, 1, seq, 1, batch, WireCodec.encode(v, new int[] {1, floats}, TensorPayload.Encoding.F32, null), 0L, null);
    }
}
