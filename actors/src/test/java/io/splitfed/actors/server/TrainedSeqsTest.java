package io.splitfed.actors.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Out-of-order micro-batch numbers are known exactly as trained, and survive a snapshot. */
class TrainedSeqsTest {

    @Test
    void outOfOrderNumbersAreKnownExactlyAndSurviveASnapshot() {
        TrainedSeqs t = new TrainedSeqs();
        for (long s : new long[] {0, 1, 3, 4, 7}) {
            t.add(s);
        }
        assertThat(t.contains(1)).isTrue();
        assertThat(t.contains(2)).as("below the highest, never trained").isFalse();
        assertThat(t.contains(5)).isFalse();
        TrainedSeqs back = TrainedSeqs.fromArray(t.toArray());
        for (long s = 0; s < 10; s++) {
            assertThat(back.contains(s)).as("seq %d", s).isEqualTo(t.contains(s));
        }
        t.add(2);
        assertThat(t.contains(2)).isTrue();
        t.forgetUpTo(6);
        assertThat(t.contains(6)).isTrue();
        assertThat(t.contains(8)).isFalse();
    }
}
