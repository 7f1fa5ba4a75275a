package io.splitfed.actors.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import java.time.Duration;

/**
 * The resend wait: the ack timeout until an answer is measured, stretched by slow answers, never
 * below the timeout, doubled per expiry up to 16x, and a bad timeout refused naming the setting.
 */
class ResendTimerTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void waitsTheAckTimeoutUntilAnAnswerIsMeasured() {
        ResendTimer t = new ResendTimer(Duration.ofSeconds(2));
        assertThat(t.timeoutNanos()).isEqualTo(2 * SECOND);
    }

    @Test
    void answersSlowerThanTheAckTimeoutStretchTheWait() {
        ResendTimer t = new ResendTimer(Duration.ofSeconds(2));
        t.answered(5 * SECOND); // a window of micro-batches queued on a slow link
        assertThat(t.timeoutNanos()).as("SRTT + 4 RTTVAR after one answer of 5 s").isEqualTo(15 * SECOND);
        for (int i = 0; i < 50; i++) {
            t.answered(5 * SECOND);
        }
        assertThat(t.timeoutNanos()).as("steady answers: the wait settles just above them").isBetween(5 * SECOND, 5 * SECOND + SECOND / 10);
    }

    @Test
    void fastAnswersNeverTakeTheWaitBelowTheAckTimeout() {
        ResendTimer t = new ResendTimer(Duration.ofSeconds(2));
        for (int i = 0; i < 20; i++) {
            t.answered(SECOND / 100);
        }
        assertThat(t.timeoutNanos()).isEqualTo(2 * SECOND);
    }

    @Test
    void eachExpiryDoublesTheWaitUpToSixteenTimesAndAnAnswerUndoesIt() {
        ResendTimer t = new ResendTimer(Duration.ofSeconds(1));
        t.expired();
        assertThat(t.timeoutNanos()).isEqualTo(2 * SECOND);
        t.expired();
        assertThat(t.timeoutNanos()).isEqualTo(4 * SECOND);
        for (int i = 0; i < 10; i++) {
            t.expired();
        }
        assertThat(t.timeoutNanos()).isEqualTo(16 * SECOND);
        t.answered(SECOND / 100);
        assertThat(t.timeoutNanos()).isEqualTo(SECOND);
    }

    @Test
    void refusesANonPositiveAckTimeoutNamingTheSetting() {
        assertThatThrownBy(() -> new ResendTimer(Duration.ZERO)).hasMessageContaining("splitfed.job.pipeline.ack-timeout");
    }
}
