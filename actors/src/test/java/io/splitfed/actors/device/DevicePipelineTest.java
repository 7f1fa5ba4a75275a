package io.splitfed.actors.device;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.WireCodec;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A split device's pipeline on its own, with no ActorSystem and an injected clock: the window
 * counts what is computing, on its way and back but not yet stepped; an answer settles one
 * micro-batch once (late and duplicate answers are ignored); SFL's cut gradients go back in issue
 * order, one at a time, whatever order they arrive in; what goes unanswered past the ack timeout
 * is sent again, and the timeout backs off; a dropped round leaves nothing in flight.
 */
class DevicePipelineTest {

    private static final long SECOND = 1_000_000_000L;

    private static ServerShard.Forward forward(long seq) {
        TokenBatch batch = new TokenBatch(1, 2, null, new int[] {2}, new int[] {0}, null, null, new long[] {seq});
        return new ServerShard.Forward(0, 1, 0, seq, 4, batch, WireCodec.f32(new float[2 * 4], 1, 2, 4), 0, null);
    }

    private static ServerShard.CutGradient gradient(long seq) {
        return new ServerShard.CutGradient(0, seq, WireCodec.f32(new float[2 * 4], 1, 2, 4), 0);
    }

    /** Issues and sends {@code seqs} at time {@code now}. */
    private static void send(DevicePipeline p, long now, long... seqs) {
        for (long s : seqs) {
            p.issued(s);
            p.sent(s, forward(s), now, null);
        }
    }

    @Test
    void theWindowCountsWhatIsComputingOnItsWayAndWaitingToStep() {
        DevicePipeline p = new DevicePipeline(Duration.ofSeconds(2));
        send(p, 0, 1, 2);
        assertThat(p.outstanding(1)).as("one computing, two on their way").isEqualTo(3);
        DevicePipeline.Pending first = p.answered(true, 1, SECOND / 10);
        assertThat(first.forward().seq()).isEqualTo(1);
        p.gradientArrived(first, gradient(1));
        assertThat(p.outstanding(0)).as("one back and waiting to step, one on its way").isEqualTo(2);
        assertThat(p.inFlight()).isEqualTo(1);
    }

    @Test
    void anAnswerSettlesOnceAndAnAnswerToAnotherRoundIsIgnored() {
        DevicePipeline p = new DevicePipeline(Duration.ofSeconds(2));
        send(p, 0, 1);
        assertThat(p.answered(false, 1, SECOND)).as("an answer to a round already over").isNull();
        assertThat(p.answered(true, 1, SECOND)).isNotNull();
        assertThat(p.answered(true, 1, SECOND)).as("the answer to a resent copy").isNull();
        assertThat(p.refused(true, 1)).as("refused after it was answered").isNull();
    }

    @Test
    void sflCutGradientsGoBackInIssueOrderOneAtATime() {
        DevicePipeline p = new DevicePipeline(Duration.ofSeconds(2));
        send(p, 0, 1, 2, 3);
        // the gradients come back out of order: 3, then 2, then 1
        for (long s : new long[] {3, 2}) {
            p.gradientArrived(p.answered(true, s, SECOND), gradient(s));
            assertThat(p.nextBackward()).as("micro-batch 1 has not stepped yet").isNull();
        }
        p.gradientArrived(p.answered(true, 1, SECOND), gradient(1));
        List<Long> order = new ArrayList<>();
        DevicePipeline.Arrived a = p.nextBackward();
        assertThat(p.nextBackward()).as("one backward at a time").isNull();
        while (a != null) {
            long seq = a.gradient().seq();
            order.add(seq);
            p.backwardEnded(seq);
            p.settled(seq);
            a = p.nextBackward();
        }
        assertThat(order).containsExactly(1L, 2L, 3L);
        assertThat(p.outstanding(0)).isZero();
    }

    @Test
    void whatGoesUnansweredPastTheTimeoutIsSentAgainAndTheTimeoutBacksOff() {
        DevicePipeline p = new DevicePipeline(Duration.ofSeconds(2));
        send(p, 0, 1);
        send(p, SECOND, 2);
        assertThat(p.expired(2 * SECOND)).as("nothing older than 2 s yet").isEmpty();
        assertThat(p.expired(2 * SECOND + 1)).containsExactly(1L);
        List<ServerShard.Forward> resent = new ArrayList<>();
        p.resent(1, f -> {
            resent.add(f);
            return 3 * SECOND;
        });
        assertThat(resent).extracting(ServerShard.Forward::seq).containsExactly(1L);
        assertThat(p.expired(4 * SECOND)).as("the timeout doubled to 4 s: nothing has waited that long").isEmpty();
        assertThat(p.expired(5 * SECOND + 1)).as("2, sent at 1 s, has waited past 4 s").containsExactly(2L);
        DevicePipeline.Pending again = p.answered(true, 1, 6 * SECOND);
        assertThat(again.sends()).as("an answer to a resent micro-batch does not time the link").isEqualTo(2);
    }

    @Test
    void droppingARoundLeavesNothingInFlightAndReturnsItsGraphs() {
        DevicePipeline p = new DevicePipeline(Duration.ofSeconds(2));
        send(p, 0, 1, 2);
        p.gradientArrived(p.answered(true, 1, SECOND), gradient(1));
        assertThat(p.drop()).as("no graphs kept in SplitFrozen").isEmpty();
        assertThat(p.outstanding(0)).isZero();
        assertThat(p.unanswered()).isEmpty();
        assertThat(p.nextBackward()).isNull();
    }
}
