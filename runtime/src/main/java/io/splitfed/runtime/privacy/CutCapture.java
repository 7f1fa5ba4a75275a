package io.splitfed.runtime.privacy;

import io.splitfed.actors.job.PreparedJob;
import io.splitfed.model.data.Example;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.privacy.CutNoise;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;
import io.splitfed.model.tokenizer.SequenceEncoder;
import io.splitfed.model.train.SegmentLearner;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Exactly what a server receives at the cut for some examples, as it reads it: each example
 * tokenized and batched as a device does, the device's {@code cut} blocks run forward, the defence
 * applied with a device's secret draws, sent in the wire's encoding and decoded as the server
 * decodes it. Rows are padded to the longest example; {@code real} marks the positions that hold a
 * real token (not padding, not a special token), {@code tokens} are the truth, for scoring only.
 *
 * @param states one [length x hidden] block per example
 */
public record CutCapture(List<Example> examples, float[][] states, int[][] tokens, boolean[][] real, int[] labels, int length, int hidden,
        int cut, CutNoise noise, TensorPayload.Encoding encoding) {

    /** Examples per forward pass. */
    private static final int BATCH = 32;

    /** Runs {@code examples} through {@code job}'s device side cut after {@code cut} blocks, defended by {@code noise}, sent as {@code encoding}. */
    public static CutCapture of(PreparedJob job, List<Example> examples, int cut, CutNoise noise, TensorPayload.Encoding encoding, long salt) {
        SequenceEncoder encoder = job.encoder();
        Set<Integer> special = specialIds(encoder);
        ModelSegment device = ModelSegment.devicePart(job.model(), cut);
        int n = examples.size();
        List<SequenceEncoder.Encoded> rows = new ArrayList<>();
        int length = 0;
        for (int i = 0; i < n; i++) {
            SequenceEncoder.Encoded e = encoder.encode(i, examples.get(i));
            rows.add(e);
            length = Math.max(length, e.ids().length);
        }
        int hidden = job.model().config().hiddenSize();
        float[][] states = new float[n][];
        int[][] tokens = new int[n][length];
        boolean[][] real = new boolean[n][length];
        int[] labels = new int[n];
        for (int from = 0; from < n; from += BATCH) {
            TokenBatch batch = job.batcher().apply(rows.subList(from, Math.min(n, from + BATCH)));
            TensorPayload clean = TensorExecutor.shared().call(() -> SegmentLearner.frozenForward(device, batch, TensorPayload.Encoding.F32));
            TensorPayload sent = WireCodec.encode(WireCodec.toFloats(noise.apply(clean, CutNoise.rowSeeds(salt, batch.sampleIds()))), clean.shape(),
                    encoding, null);
            float[] received = WireCodec.toFloats(sent);
            int seqLen = batch.seqLen();
            for (int r = 0; r < batch.batch(); r++) {
                int i = (int) batch.sampleIds()[r];
                int[] ids = rows.get(i).ids();
                states[i] = new float[length * hidden];
                System.arraycopy(received, r * seqLen * hidden, states[i], 0, Math.min(seqLen, length) * hidden);
                for (int t = 0; t < ids.length; t++) {
                    tokens[i][t] = ids[t];
                    real[i][t] = !special.contains(ids[t]);
                }
                labels[i] = rows.get(i).label();
            }
        }
        return new CutCapture(List.copyOf(examples), states, tokens, real, labels, length, hidden, cut, noise, encoding);
    }

    /**
     * The real tokens, in order: their states ([count x hidden], flattened), their ids and their
     * positions. What an attacker fits on.
     */
    public record RealTokens(float[] states, int[] tokens, int[] positions) {}

    public RealTokens realTokens() {
        int count = 0;
        for (boolean[] row : real) {
            for (boolean b : row) {
                count += b ? 1 : 0;
            }
        }
        float[] out = new float[count * hidden];
        int[] ids = new int[count];
        int[] at = new int[count];
        int k = 0;
        for (int s = 0; s < states.length; s++) {
            for (int t = 0; t < length; t++) {
                if (real[s][t]) {
                    System.arraycopy(states[s], t * hidden, out, k * hidden, hidden);
                    ids[k] = tokens[s][t];
                    at[k++] = t;
                }
            }
        }
        return new RealTokens(out, ids, at);
    }

    /** The ids an encoder adds around any text (BERT's [CLS] and [SEP], a decoder's BOS): never the devices' data. */
    private static Set<Integer> specialIds(SequenceEncoder encoder) {
        Set<Integer> out = new HashSet<>();
        for (int id : encoder.encode(-1, Example.single("", 0)).ids()) {
            out.add(id);
        }
        return out;
    }
}
