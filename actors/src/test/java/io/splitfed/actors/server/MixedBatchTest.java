package io.splitfed.actors.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.WireCodec;

import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * Row mixing: rows go to the devices furthest behind, a device already ahead waits, the cap on
 * devices holds, and rows keep their labels, lengths and activations.
 */
class MixedBatchTest {

    /** A micro-batch whose activation values encode (device, row, position, channel). */
    private static QueuedMicroBatch source(int device, int rows, int t, int hidden, int label) {
        int[] lengths = new int[rows];
        int[] labels = new int[rows];
        long[] ids = new long[rows];
        float[] v = new float[rows * t * hidden];
        for (int r = 0; r < rows; r++) {
            lengths[r] = t - (r % 3);
            labels[r] = label;
            ids[r] = device * 100L + r;
            for (int p = 0; p < t; p++) {
                for (int c = 0; c < hidden; c++) {
                    v[(r * t + p) * hidden + c] = p < lengths[r] ? device * 1000 + r * 100 + p * 10 + c : 0;
                }
            }
        }
        TokenBatch b = new TokenBatch(rows, t, null, lengths, labels, null, null, ids);
        return new QueuedMicroBatch(new ServerShard.Forward(device, 1, 0, 0, 4, b, WireCodec.f32(v, rows, t, hidden), 0, null), device);
    }

    @Test
    void rowsGoToTheDevicesFurthestBehind() {
        int hidden = 2;
        QueuedMicroBatch a = source(1, 8, 4, hidden, 0);
        QueuedMicroBatch b = source(2, 8, 4, hidden, 1);
        // device 1 plans 10 rows this round, device 2 plans 30: equal progress takes them 1:3
        MixedBatch m = MixedBatch.take(List.of(a, b), 8, 8, hidden, (q, extra) -> extra / (q.forward.device() == 1 ? 10.0 : 30.0));
        assertThat(m.taken()).containsEntry(a, 2).containsEntry(b, 6);
        assertThat(m.batch().labels()).containsExactlyInAnyOrder(0, 0, 1, 1, 1, 1, 1, 1);
    }

    @Test
    void aDeviceAlreadyAheadWaitsAndTheCapOnDevicesHolds() {
        int hidden = 2;
        QueuedMicroBatch a = source(1, 8, 4, hidden, 0);
        QueuedMicroBatch b = source(2, 8, 4, hidden, 1);
        QueuedMicroBatch c = source(3, 8, 4, hidden, 1);
        // device 1 has done half its round already, the others nothing
        MixedBatch m = MixedBatch.take(List.of(a, b, c), 6, 2, hidden, (q, extra) -> (q.forward.device() == 1 ? 8 : 0) / 16.0 + extra / 16.0);
        assertThat(m.taken()).containsOnlyKeys(b, c);
        assertThat(m.taken()).containsEntry(b, 3).containsEntry(c, 3);
    }

    @Test
    void rowsKeepTheirLabelsLengthsAndActivations() {
        int hidden = 3;
        QueuedMicroBatch a = source(1, 4, 5, hidden, 0);
        QueuedMicroBatch b = source(2, 4, 6, hidden, 1);
        MixedBatch m = MixedBatch.take(List.of(a, b), 6, 8, hidden, (q, extra) -> extra);
        TokenBatch batch = m.batch();
        float[] v = WireCodec.toFloats(m.activations());
        assertThat(batch.batch()).isEqualTo(6);
        assertThat(m.taken()).containsEntry(a, 3).containsEntry(b, 3);
        assertThat(a.remaining()).isEqualTo(1);
        assertThat(b.remaining()).isEqualTo(1);
        int t = batch.seqLen();
        for (int i = 0; i < batch.batch(); i++) {
            long id = batch.sampleIds()[i];
            int device = (int) (id / 100);
            int row = (int) (id % 100);
            assertThat(batch.labels()[i]).isEqualTo(device == 1 ? 0 : 1);
            int srcT = device == 1 ? 5 : 6;
            assertThat(batch.lengths()[i]).isEqualTo(srcT - row % 3);
            for (int p = 0; p < t; p++) {
                for (int c = 0; c < hidden; c++) {
                    float expected = p < batch.lengths()[i] ? device * 1000 + row * 100 + p * 10 + c : 0;
                    assertThat(v[(i * t + p) * hidden + c]).as("row %d pos %d ch %d", i, p, c).isEqualTo(expected);
                }
            }
        }
    }
}
