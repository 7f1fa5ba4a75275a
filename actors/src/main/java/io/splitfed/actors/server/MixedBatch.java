package io.splitfed.actors.server;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A server training batch assembled from rows of several devices' queued micro-batches, so that
 * each optimizer step sees many devices even when every device holds one label. Rows are handed
 * out progress-fairly: each row goes to the device that would be furthest behind in its round, so
 * all devices finish their rounds together. Without that, devices with smaller shards finish
 * early and, under label skew, the end of every round trains on the remaining devices' labels
 * alone, and the adapter the round publishes is biased towards them. Within a device, rows are
 * taken nearest in length to the step's first row, so the step pads little.
 */
record MixedBatch(TokenBatch batch, TensorPayload activations, Map<QueuedMicroBatch, Integer> taken) {

    private record Candidate(QueuedMicroBatch source, int row) {}

    /** A device's share of its round done if {@code extraRows} more of its rows were trained. */
    interface Progress {
        double after(QueuedMicroBatch q, int extraRows);
    }

    /**
     * @param pool queued micro-batches with free rows, all cut at the same split point, in arrival order
     * @param maxDevices at most this many devices in one step
     */
    static MixedBatch take(List<QueuedMicroBatch> pool, int rows, int maxDevices, int hidden, Progress progress) {
        Map<Integer, ArrayDeque<Candidate>> byDevice = new LinkedHashMap<>();
        for (QueuedMicroBatch q : pool) {
            for (int r = 0; r < q.rows(); r++) {
                if (q.isFree(r)) {
                    byDevice.computeIfAbsent(q.forward.device(), d -> new ArrayDeque<>()).add(new Candidate(q, r));
                }
            }
        }
        Map<Integer, Integer> perDevice = new LinkedHashMap<>();
        List<Candidate> picks = new ArrayList<>();
        Map<QueuedMicroBatch, Integer> taken = new LinkedHashMap<>();
        while (picks.size() < rows) {
            int best = -1;
            double bestProgress = Double.MAX_VALUE;
            for (Map.Entry<Integer, ArrayDeque<Candidate>> e : byDevice.entrySet()) {
                int device = e.getKey();
                if (e.getValue().isEmpty() || (!perDevice.containsKey(device) && perDevice.size() >= maxDevices)) {
                    continue;
                }
                double p = progress.after(e.getValue().peekFirst().source(), perDevice.getOrDefault(device, 0) + 1);
                if (p < bestProgress) {
                    best = device;
                    bestProgress = p;
                }
            }
            if (best < 0) {
                break;
            }
            Candidate c = picks.isEmpty() ? byDevice.get(best).pollFirst() : closest(byDevice.get(best), picks.get(0));
            c.source().reserve(c.row());
            picks.add(c);
            perDevice.merge(best, 1, Integer::sum);
            taken.merge(c.source(), 1, Integer::sum);
        }
        return new MixedBatch(build(picks), null, taken).withActivations(picks, hidden);
    }

    /**
     * The device's free row nearest in length to the step's first row (its oldest, so nothing waits
     * long): a step pads every row to its longest, and on SST-2 lengths run from 3 to 60 tokens.
     */
    private static Candidate closest(ArrayDeque<Candidate> free, Candidate anchor) {
        int target = anchor.source().length(anchor.row());
        Candidate best = null;
        for (Candidate c : free) {
            if (best == null || Math.abs(c.source().length(c.row()) - target) < Math.abs(best.source().length(best.row()) - target)) {
                best = c;
            }
        }
        free.removeFirstOccurrence(best);
        return best;
    }

    /** The whole of one micro-batch, as it arrived. */
    static MixedBatch whole(QueuedMicroBatch q) {
        q.reserveAll();
        return new MixedBatch(q.forward.batch(), q.forward.activations(), Map.of(q, q.rows()));
    }

    private static TokenBatch build(List<Candidate> picks) {
        int b = picks.size();
        int t = 1;
        for (Candidate c : picks) {
            t = Math.max(t, c.source().length(c.row()));
        }
        int[] lengths = new int[b];
        long[] sampleIds = new long[b];
        boolean lm = picks.get(0).source().forward.batch().targets() != null;
        int[] labels = lm ? null : new int[b];
        int[] targets = lm ? new int[b * t] : null;
        float[] mask = lm ? new float[b * t] : null;
        for (int i = 0; i < b; i++) {
            Candidate c = picks.get(i);
            TokenBatch src = c.source().forward.batch();
            int len = src.lengths()[c.row()];
            lengths[i] = len;
            sampleIds[i] = src.sampleIds()[c.row()];
            if (lm) {
                System.arraycopy(src.targets(), c.row() * src.seqLen(), targets, i * t, len);
                System.arraycopy(src.lossMask(), c.row() * src.seqLen(), mask, i * t, len);
            } else {
                labels[i] = src.labels()[c.row()];
            }
        }
        return new TokenBatch(b, t, null, lengths, labels, targets, mask, sampleIds);
    }

    private MixedBatch withActivations(List<Candidate> picks, int hidden) {
        int t = batch.seqLen();
        float[] values = new float[batch.batch() * t * hidden];
        for (int i = 0; i < picks.size(); i++) {
            Candidate c = picks.get(i);
            int srcT = c.source().forward.batch().seqLen();
            System.arraycopy(c.source().values(), c.row() * srcT * hidden, values, i * t * hidden, batch.lengths()[i] * hidden);
        }
        return new MixedBatch(batch, WireCodec.f32(values, batch.batch(), t, hidden), taken);
    }
}
