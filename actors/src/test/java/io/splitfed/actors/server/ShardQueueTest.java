package io.splitfed.actors.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.server.ShardQueue.Admission;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.WireCodec;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/**
 * A shard's queue and its rules on their own, with no ActorSystem: what becomes of each arriving
 * micro-batch, which rows the next step trains (the device furthest behind first; whole in SFL,
 * mixed across devices in SplitFrozen), what a closing round drops, and a snapshot's round trip.
 */
class ShardQueueTest {

    private static final int HIDDEN = 4;

    private static ServerShard.Forward forward(int device, int round, long seq, int rows) {
        int t = 3;
        int[] lengths = new int[rows];
        int[] labels = new int[rows];
        long[] ids = new long[rows];
        for (int r = 0; r < rows; r++) {
            lengths[r] = 3;
            labels[r] = r % 2;
            ids[r] = seq * 100 + r;
        }
        TokenBatch batch = new TokenBatch(rows, t, null, lengths, labels, null, null, ids);
        return new ServerShard.Forward(device, 2, round, seq, 4, batch, WireCodec.f32(new float[rows * t * HIDDEN], rows, t, HIDDEN), 0, null);
    }

    private static ShardQueue queue(boolean asynchronous, boolean whole, int mix) {
        return new ShardQueue(new ShardQueue.Rules(asynchronous, whole, mix, 4, HIDDEN));
    }

    @Test
    void eachArrivalIsRefusedHeldAnsweredAgainOrQueued() {
        ShardQueue q = queue(false, false, 2);
        assertThat(q.admit(forward(0, 1, 1, 2), 1, true, "activations have NaN", false))
                .as("malformed: refused, a strike").isEqualTo(new Admission.Refused("activations have NaN", true));
        assertThat(q.admit(forward(0, 2, 2, 2), 1, true, null, false)).as("for the next round: held").isEqualTo(new Admission.Held(true));
        assertThat(q.admit(forward(0, 1, 3, 2), 1, true, null, false)).isInstanceOf(Admission.Queued.class);
        assertThat(q.admit(forward(0, 1, 3, 2), 1, true, null, false)).as("still queued: answered again").isInstanceOf(Admission.SeenBefore.class);
        assertThat(q.admit(forward(0, 1, 4, 2), 1, true, null, true)).as("trained before").isInstanceOf(Admission.SeenBefore.class);
        assertThat(q.admit(forward(1, 0, 5, 2), 1, true, null, false))
                .as("a closed round's, in a synchronous job: refused, no strike").isEqualTo(new Admission.Refused("round 0 is closed", false));
        assertThat(q.size()).isEqualTo(1);
        assertThat(q.releaseHeld()).extracting(ServerShard.Forward::seq).containsExactly(2L);
        assertThat(q.releaseHeld()).as("released once").isEmpty();
    }

    @Test
    void anAsynchronousJobKeepsLateWorkForTheNextRound() {
        ShardQueue q = queue(true, false, 2);
        assertThat(q.admit(forward(1, 0, 1, 2), 1, true, null, false)).as("late, round open: trained in this round").isInstanceOf(Admission.Queued.class);
        assertThat(q.admit(forward(1, 1, 2, 2), 1, false, null, false)).as("round closing: held").isEqualTo(new Admission.Held(false));
        assertThat(q.close()).as("nothing dropped").isEmpty();
        assertThat(q.size()).isEqualTo(1);
        assertThat(q.releaseHeld()).extracting(ServerShard.Forward::seq).containsExactly(2L);
    }

    @Test
    void aSynchronousCloseDropsTheQueueNamingWhatWasLeft() {
        ShardQueue q = queue(false, false, 1);
        q.admit(forward(3, 0, 7, 2), 0, true, null, false);
        assertThat(q.close()).containsExactly("device 3 micro-batch 7 dropped: round 0 closed with 2 of its rows untrained");
        assertThat(q.isEmpty()).isTrue();
    }

    @Test
    void theDeviceFurthestBehindIsServedFirstWholeInSfl() {
        ShardQueue q = queue(false, true, 4);
        q.admit(forward(0, 0, 1, 2), 0, true, null, false);
        q.admit(forward(1, 0, 2, 2), 0, true, null, false);
        Map<Integer, Double> done = Map.of(0, 0.5, 1, 0.25);
        MixedBatch first = q.next((m, extra) -> done.get(m.forward.device()) + extra / 16.0);
        assertThat(first.taken().keySet()).extracting(m -> m.forward.device()).as("device 1 is behind").containsExactly(1);
        assertThat(first.batch().batch()).as("SFL: the whole micro-batch").isEqualTo(2);
        MixedBatch second = q.next((m, extra) -> done.get(m.forward.device()) + extra / 16.0);
        assertThat(second.taken().keySet()).extracting(m -> m.forward.device()).as("its rows are taken: device 0 next").containsExactly(0);
        assertThat(q.next((m, extra) -> 0)).as("every row taken").isNull();
    }

    @Test
    void splitFrozenMixesRowsOfSeveralDevicesIntoOneStep() {
        ShardQueue q = queue(false, false, 2);
        q.admit(forward(0, 0, 1, 2), 0, true, null, false);
        q.admit(forward(1, 0, 2, 2), 0, true, null, false);
        MixedBatch step = q.next((m, extra) -> extra / 8.0);
        assertThat(step.batch().batch()).isEqualTo(4);
        assertThat(step.taken().keySet()).extracting(m -> m.forward.device()).containsExactlyInAnyOrder(0, 1);
        step.taken().forEach((m, n) -> {
            assertThat(m.trained(n)).as("all its rows trained").isTrue();
            q.remove(m);
        });
        assertThat(q.isEmpty()).isTrue();
    }

    @Test
    void aSnapshotOfTheQueueRestoresItsRowsAndWhatIsHeld() {
        ShardQueue q = queue(false, false, 2);
        q.admit(forward(0, 0, 1, 2), 0, true, null, false);
        q.admit(forward(1, 1, 2, 2), 0, true, null, false);
        ShardQueue back = queue(false, false, 2);
        back.restore(q.forwards(), q.trainedRows(), q.held());
        assertThat(back.forwards()).containsExactlyElementsOf(q.forwards());
        assertThat(back.held()).containsExactlyElementsOf(List.of(q.held().get(0)));
        assertThat(back.find(0, 1)).isNotNull();
        assertThat(back.admit(forward(0, 0, 1, 2), 0, true, null, false)).as("restored: a resend is answered again").isInstanceOf(Admission.SeenBefore.class);
    }
}
