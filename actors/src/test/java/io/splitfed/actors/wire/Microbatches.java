package io.splitfed.actors.wire;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import org.apache.pekko.actor.typed.ActorRef;

import java.util.SplittableRandom;

/** Micro-batches of a given size for the wire's tests. */
public final class Microbatches {

    private Microbatches() {}

    /**
     * Device {@code device}'s micro-batch {@code seq} of round {@code round}, cut at block 2: four
     * rows of six tokens with seeded Gaussian activations of width {@code hidden}, {@code poison}
     * added to one value (NaN makes it malformed).
     */
    public static ServerShard.Forward gaussian(int hidden, int device, int round, long seq, float poison, ActorRef<ServerShard.Reply> replyTo) {
        int b = 4;
        int t = 6;
        float[] v = new float[b * t * hidden];
        SplittableRandom rnd = new SplittableRandom(seq);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        v[7] += poison;
        TokenBatch batch = new TokenBatch(b, t, null, new int[] {6, 6, 4, 3}, new int[] {0, 1, 1, 0}, null, null, new long[] {1, 2, 3, 4});
        return new ServerShard.Forward(device, 2, round, seq, 3, batch, WireCodec.f32(v, b, t, hidden), 0, replyTo);
    }

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
