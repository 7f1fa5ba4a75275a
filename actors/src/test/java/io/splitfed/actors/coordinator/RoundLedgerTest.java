package io.splitfed.actors.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.aggregator.WeightedUpdate;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.plan.DevicePlan;
import io.splitfed.actors.plan.RoundPlan;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.train.Evaluation;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** The coordinator's books without an actor: a round's statuses, turns, rewinds and summary; late work's staleness weights. */
class RoundLedgerTest {

    private static RoundPlan plan(List<Integer> devices) {
        Map<Integer, DevicePlan> p = new java.util.LinkedHashMap<>();
        devices.forEach(d -> p.put(d, new DevicePlan(1, 8, 32, 0)));
        return new RoundPlan(p, Double.NaN, Double.NaN, "static");
    }

    private static DeviceRoundStats stats(int device, int samples, float loss) {
        return new DeviceRoundStats(device, 0, samples, 1, 0, 0.1, 1, 0, 0, 0, List.of(new StepLoss(0, device, 0, loss, 0)), List.of(), 0);
    }

    @Test
    void aClosingRoundWaitsForTheDevicesOfAShardThatLostItsWorkThenAsksThatShardOnce() {
        RoundLedger ledger = new RoundLedger();
        ledger.open(1, List.of(0, 1, 2, 3), plan(List.of(0, 1, 2, 3)), Map.of(0, 3, 1, 3, 2, 3, 3, 3), false);
        for (int d = 0; d < 4; d++) {
            assertThat(ledger.done(d, 1, stats(d, 24, 1.0f), null)).isTrue();
        }
        ledger.close(false);
        // shard 0's node died with the close on its way: its devices run the round again for it
        List<Integer> rewound = ledger.rewind(0, Map.of(0, 0, 1, 0, 2, 1, 3, 1));
        assertThat(rewound).containsExactly(0, 1);
        ledger.reopen(0, rewound);
        assertThat(ledger.done(2, 1, stats(2, 24, 1.0f), null)).as("a device of the other shard, already done").isFalse();
        assertThat(ledger.done(0, 1, stats(0, 24, 1.0f), null)).as("a rerun device's result while the round is closing").isTrue();
        assertThat(ledger.reclosable()).as("device 1 still runs the round again").isEmpty();
        assertThat(ledger.gone(1)).as("a rerun device that leaves").isTrue();
        assertThat(ledger.reclosable()).containsExactly(0);
        assertThat(ledger.reclosable()).as("asked once").isEmpty();
        assertThat(ledger.stats()).containsKeys(0, 2, 3).doesNotContainKey(1);
    }

    @Test
    void aRoundClosesOnlyWhenNoSampledDeviceRunsAndItsSummaryCountsEachStatus() {
        RoundLedger ledger = new RoundLedger();
        ledger.open(2, List.of(0, 1, 2, 3), plan(List.of(0, 1, 2, 3)), Map.of(0, 3, 1, 3, 2, 3, 3, 3), false);
        assertThat(ledger.microBatches()).isEqualTo(12);

        assertThat(ledger.done(0, 2, stats(0, 24, 1.0f), null)).isTrue();
        assertThat(ledger.done(0, 2, stats(0, 24, 1.0f), null)).as("a second result").isFalse();
        assertThat(ledger.done(1, 1, stats(1, 24, 1.0f), null)).as("a result for another round").isFalse();
        assertThat(ledger.gone(1)).isTrue();
        assertThat(ledger.refused(2, 2)).isTrue();
        assertThat(ledger.allAnswered()).isFalse();
        assertThat(ledger.late()).containsExactly(3);
        assertThat(ledger.allAnswered()).isTrue();
        ledger.close(true);
        assertThat(ledger.done(3, 2, stats(3, 24, 1.0f), null)).as("after the close").isFalse();

        RoundSummary s = ledger.summary(new Evaluation.Result(0.5, 0.7, 10), List.of(2), 1);
        assertThat(s.round()).isEqualTo(2);
        assertThat(s.sampled()).containsExactly(0, 1, 2, 3);
        assertThat(s.done()).containsExactly(0);
        assertThat(s.gone()).containsExactly(1);
        assertThat(s.late()).containsExactly(3);
        assertThat(s.samples()).isEqualTo(24);
        assertThat(s.trainLoss()).isEqualTo(1.0);
        assertThat(s.closedByDeadline()).isTrue();
        assertThat(s.benched()).containsExactly(2);
    }

    @Test
    void turnsSkipDevicesThatStoppedAndARewindRunsTheShardsDevicesAgain() {
        RoundLedger ledger = new RoundLedger();
        ledger.open(0, List.of(0, 1, 2), plan(List.of(0, 1, 2)), Map.of(0, 2, 1, 2, 2, 2), true);
        assertThat(ledger.nextTurn()).isEqualTo(0);
        assertThat(ledger.gone(1)).isTrue();
        assertThat(ledger.done(0, 0, stats(0, 16, 0.5f), null)).isTrue();
        assertThat(ledger.nextTurn()).as("device 1 left while waiting").isEqualTo(2);
        assertThat(ledger.nextTurn()).isNull();

        // devices 0 and 2 on shard 0, device 1 on shard 1: shard 0 lost the round
        List<Integer> rewound = ledger.rewind(0, Map.of(0, 0, 1, 1, 2, 0));
        assertThat(rewound).containsExactly(0, 2);
        assertThat(ledger.running(0)).as("its result is taken back").isTrue();
        assertThat(ledger.stats()).isEmpty();
        assertThat(ledger.running(1)).isFalse();
    }

    @Test
    void lateUpdatesAreWeightedByTheirStalenessAndTakenOnce() {
        LateWork late = new LateWork();
        late.stillWorking(4, 1);
        assertThat(late.busy(4)).isTrue();
        assertThat(late.arrive(5, 1, 3, null, 10)).as("a device that was not late").isFalse();
        LoraAdapter a = new LoraAdapter(new LoraConfig(2, 4, 0.0, Set.of(LoraTarget.Q)),
                Map.of("w", new HostTensor(new int[] {1}, new float[] {1})), Set.of());
        assertThat(late.arrive(4, 1, 3, a, 90)).isTrue();
        assertThat(late.busy(4)).isFalse();
        assertThat(late.applied()).isEqualTo(1);
        List<WeightedUpdate> u = late.drain(3, 0.5);
        assertThat(u).singleElement().satisfies(w -> {
            assertThat(w.source()).isEqualTo(4);
            assertThat(w.weight()).as("90 / (1 + 2)^0.5").isCloseTo(90 / Math.sqrt(3), org.assertj.core.data.Offset.offset(1e-9));
        });
        assertThat(late.drain(4, 0.5)).isEmpty();
    }
}
