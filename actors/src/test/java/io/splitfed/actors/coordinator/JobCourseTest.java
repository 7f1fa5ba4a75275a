package io.splitfed.actors.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.train.Evaluation;

import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The coordinator's core driven by hand, with no ActorSystem and a clock that moves only when the
 * test says: what it asks the shell to do for each event, round after round, including deadlines,
 * a poisoned update, a lost shard, SplitLoRA's turns, checkpoints and asynchronous rounds.
 */
class JobCourseTest {

    /** The job's clock, in nanoseconds; moved by the test alone. */
    private long now = 1_000_000_000L;

    private JobCourse course(Map<String, Object> settings, int devices, int shards, LoraAdapter initialDevice) {
        Map<String, Object> config = new LinkedHashMap<>(Map.of("splitfed.job.federation.devices", devices, "splitfed.job.federation.min-devices", 1,
                "splitfed.job.robustness.quarantine-after", 1));
        config.putAll(settings);
        JobSpec spec = JobSpec.fromConfig(JobConfig.load(ConfigFactory.parseMap(config)));
        Set<Integer> ids = new LinkedHashSet<>();
        Map<Integer, Integer> shardOf = new LinkedHashMap<>();
        Map<Integer, Integer> steps = new LinkedHashMap<>();
        for (int d = 0; d < devices; d++) {
            ids.add(d);
            shardOf.put(d, shards == 0 ? 0 : d % shards);
            steps.put(d, 3);
        }
        RoundRules rules = new RoundRules(spec, ids, shardOf, shards, steps, initialDevice, null, 4, null, null, Duration.ofSeconds(30), null);
        return new JobCourse(rules, Map.of(), () -> now, LoggerFactory.getLogger(JobCourseTest.class));
    }

    private static DeviceRoundStats stats(int device, int round) {
        return new DeviceRoundStats(device, round, 24, 3, 0, 0.1, 1, 0, 0, 0, List.of(new StepLoss(0, device, 0, 0.5f, 0)), List.of(), 0);
    }

    private static ServerShard.Closed closed(int shard, int round) {
        return new ServerShard.Closed(new ShardRoundReport(shard, round, Map.of(), 0, List.of(), List.of(new StepLoss(0, 0, 0, 0.7f, 0)), 0.2, 1, 0,
                List.of(), Map.of(), "here"), Map.of(), Map.of());
    }

    private static RoundScorer.Scored scored(int round, RoundScorer.Score score) {
        return new RoundScorer.Scored(round, score.deviceGlobal(), score.serverGlobal(), false, new Evaluation.Result(0.8, 0.4, 10));
    }

    private static LoraAdapter adapter(float value) {
        return new LoraAdapter(new LoraConfig(2, 4, 0.0, Set.of(LoraTarget.Q)), Map.of("w", new HostTensor(new int[] {2}, new float[] {value, value})),
                Set.of());
    }

    @SuppressWarnings("unchecked")
    private static <E extends RoundEffect> List<E> all(List<RoundEffect> effects, Class<E> type) {
        List<E> out = new ArrayList<>();
        effects.stream().filter(type::isInstance).forEach(e -> out.add((E) e));
        return out;
    }

    private static <E extends RoundEffect> E one(List<RoundEffect> effects, Class<E> type) {
        assertThat(all(effects, type)).as(type.getSimpleName() + " in " + effects).hasSize(1);
        return all(effects, type).get(0);
    }

    private static List<Integer> started(List<RoundEffect> effects) {
        return all(effects, RoundEffect.Start.class).stream().map(RoundEffect.Start::device).toList();
    }

    @Test
    void roundsRunOneAfterAnotherOnTheJobsClockAndTheLastEndsTheJob() {
        JobCourse course = course(Map.of("splitfed.job.mode", "splitfrozen", "splitfed.job.federation.rounds", 2), 3, 1, null);
        List<RoundEffect> opened = course.begin();
        assertThat(opened.get(0)).isEqualTo(new RoundEffect.Opened(0, 9));
        assertThat(started(opened)).containsExactly(0, 1, 2);
        assertThat(one(opened, RoundEffect.Arm.class).timer()).isEqualTo(RoundEffect.Timer.DEADLINE);

        now += 2_000_000_000L;
        assertThat(course.result(0, 0, stats(0, 0), null)).isEmpty();
        assertThat(course.result(1, 0, stats(1, 0), null)).isEmpty();
        List<RoundEffect> closing = course.result(2, 0, stats(2, 0), null);
        assertThat(closing).containsExactly(new RoundEffect.Closing(0), new RoundEffect.Disarm(RoundEffect.Timer.DEADLINE),
                new RoundEffect.CloseShards(0, List.of(0)), new RoundEffect.Arm(RoundEffect.Timer.CLOSE, 0, Duration.ofSeconds(30)));

        assertThat(course.shardClosed(closed(0, 1))).as("a report for another round").isEmpty();
        List<RoundEffect> scoring = course.shardClosed(closed(0, 0));
        RoundScorer.Score score = one(scoring, RoundEffect.Score.class).score();
        assertThat(score.aggregate()).isTrue();
        assertThat(score.device()).as("SplitFrozen's devices send no updates").isEmpty();

        now += 1_000_000_000L;
        List<RoundEffect> next = course.scored(scored(0, score));
        RoundSummary summary = ((JobEvent.RoundClosed) all(next, RoundEffect.Emit.class).get(0).event()).summary();
        assertThat(summary.done()).containsExactly(0, 1, 2);
        assertThat(summary.samples()).isEqualTo(72);
        assertThat(summary.seconds()).as("the round's time on the job's clock").isEqualTo(3.0);
        assertThat(summary.accuracy()).isEqualTo(0.8);
        assertThat(started(next)).as("round 2 starts at once").containsExactly(0, 1, 2);
        assertThat(all(next, RoundEffect.Finish.class)).isEmpty();

        for (int d = 0; d < 3; d++) {
            course.result(d, 1, stats(d, 1), null);
        }
        score = one(course.shardClosed(closed(0, 1)), RoundEffect.Score.class).score();
        List<RoundEffect> end = course.scored(scored(1, score));
        JobResult result = one(end, RoundEffect.Finish.class).result();
        assertThat(result.rounds()).hasSize(2);
        assertThat(end.get(end.size() - 1)).as("the job's result is the last thing it does").isInstanceOf(RoundEffect.Finish.class);
    }

    @Test
    void theDeadlineStopsLateDevicesInSynchronousRoundsAndASilentShardIsLeftOutAfterTheCloseTimeout() {
        JobCourse course = course(Map.of("splitfed.job.mode", "splitfrozen", "splitfed.job.federation.rounds", 1), 3, 1, null);
        course.begin();
        course.result(1, 0, stats(1, 0), null);
        assertThat(course.deadline(7)).as("another round's deadline").isEmpty();
        List<RoundEffect> closing = course.deadline(0);
        assertThat(all(closing, RoundEffect.Abort.class)).containsExactly(new RoundEffect.Abort(0, 0), new RoundEffect.Abort(2, 0));
        assertThat(closing).contains(new RoundEffect.CloseShards(0, List.of(0)));
        assertThat(course.result(0, 0, stats(0, 0), null)).as("a result after the close is not used").isEmpty();

        List<RoundEffect> timedOut = course.closeDue(0);
        assertThat(one(timedOut, RoundEffect.Score.class).score().round()).isZero();
        assertThat(course.shardClosed(closed(0, 0))).as("the shard's report, too late").isEmpty();
    }

    @Test
    void anUpdateThatIsNotFiniteIsStruckAndTheRoundDoesNotWaitForItsDevice() {
        JobCourse course = course(Map.of("splitfed.job.mode", "fedlora", "splitfed.job.federation.rounds", 2), 2, 0, adapter(0f));
        course.begin();
        assertThat(course.result(0, 0, stats(0, 0), adapter(Float.NaN))).as("device 1 still runs").isEmpty();
        List<RoundEffect> closing = course.result(1, 0, stats(1, 0), adapter(0.1f));
        RoundScorer.Score score = one(closing, RoundEffect.Score.class).score();
        assertThat(score.device()).as("only the finite update is aggregated").singleElement().satisfies(u -> assertThat(u.source()).isEqualTo(1));

        List<RoundEffect> next = course.scored(scored(0, score));
        RoundSummary summary = ((JobEvent.RoundClosed) all(next, RoundEffect.Emit.class).get(0).event()).summary();
        assertThat(summary.benched()).as("quarantined after one strike").containsExactly(0);
        assertThat(started(next)).as("the poisoner sits the next round out").containsExactly(1);
    }

    @Test
    void aShardLostWhileItsRoundClosesRunsItsDevicesAgainAndIsAskedForItsReportOnceTheyAreDone() {
        JobCourse course = course(Map.of("splitfed.job.mode", "splitfrozen", "splitfed.job.federation.rounds", 1), 4, 2, null);
        course.begin();
        for (int d = 0; d < 4; d++) {
            course.result(d, 0, stats(d, 0), null);
        }
        assertThat(course.shardClosed(closed(1, 0))).as("shard 0 has not reported").isEmpty();
        List<RoundEffect> rewound = course.shardLost(0, 0);
        assertThat(rewound.get(0)).isEqualTo(new RoundEffect.ShardOpen(0, 0));
        assertThat(all(rewound, RoundEffect.Rewind.class)).as("devices 0 and 2 are shard 0's")
                .containsExactly(new RoundEffect.Rewind(0, 0, null, true), new RoundEffect.Rewind(2, 0, null, true));
        assertThat(all(rewound, RoundEffect.CloseShards.class)).as("not asked before they are done").isEmpty();

        assertThat(course.result(0, 0, stats(0, 0), null)).isEmpty();
        assertThat(course.result(2, 0, stats(2, 0), null)).containsExactly(new RoundEffect.CloseShards(0, List.of(0)));
        assertThat(one(course.shardClosed(closed(0, 0)), RoundEffect.Score.class).score().round()).isZero();
    }

    @Test
    void splitLoraDevicesTakeTurnsAndOneThatLeavesPassesItsTurnOn() {
        JobCourse course = course(Map.of("splitfed.job.mode", "sfl", "splitfed.job.federation.rounds", 1), 3, 1, adapter(0f));
        assertThat(started(course.begin())).containsExactly(0);
        assertThat(started(course.result(0, 0, stats(0, 0), adapter(0.1f)))).containsExactly(1);
        assertThat(course.gone(1)).isFalse();
        assertThat(started(course.left(1))).containsExactly(2);
        assertThat(course.gone(1)).isTrue();
        assertThat(course.result(2, 0, stats(2, 0), adapter(0.1f))).contains(new RoundEffect.CloseShards(0, List.of(0)));
    }

    @Test
    void aCheckpointHoldsTheNextRoundUntilItsSnapshotsAreInAndTheEndUntilTheLastIsWritten() {
        JobCourse course = course(Map.of("splitfed.job.mode", "splitfrozen", "splitfed.job.federation.rounds", 2,
                "splitfed.job.checkpoint.dir", "/tmp/never-written"), 2, 1, null);
        course.begin();
        course.result(0, 0, stats(0, 0), null);
        course.result(1, 0, stats(1, 0), null);
        RoundScorer.Score score = one(course.shardClosed(closed(0, 0)), RoundEffect.Score.class).score();
        List<RoundEffect> afterScore = course.scored(scored(0, score));
        assertThat(one(afterScore, RoundEffect.Checkpoint.class).base().roundsDone()).isEqualTo(1);
        assertThat(started(afterScore)).as("round 2 waits for the snapshots").isEmpty();
        assertThat(started(course.checkpointGathered(1))).containsExactly(0, 1);
        assertThat(course.checkpointWritten(1, "/tmp/never-written/1")).containsExactly(
                new RoundEffect.Emit(new JobEvent.Checkpointed(1, "/tmp/never-written/1")));

        course.result(0, 1, stats(0, 1), null);
        course.result(1, 1, stats(1, 1), null);
        score = one(course.shardClosed(closed(0, 1)), RoundEffect.Score.class).score();
        course.scored(scored(1, score));
        assertThat(course.checkpointGathered(2)).as("the last round's end waits for its write").isEmpty();
        assertThat(all(course.checkpointWritten(2, null), RoundEffect.Finish.class)).as("a failed write ends the job too").hasSize(1);
    }

    @Test
    void inAsynchronousRoundsALateDeviceGoesOnAndTheNextRoundWaitsForItWhenNobodyElseIsFree() {
        JobCourse course = course(Map.of("splitfed.job.mode", "fedlora", "splitfed.job.federation.rounds", 2,
                "splitfed.job.robustness.late-updates", "apply"), 1, 0, adapter(0f));
        course.begin();
        List<RoundEffect> closing = course.deadline(0);
        assertThat(all(closing, RoundEffect.Abort.class)).as("it goes on").isEmpty();
        RoundScorer.Score score = one(closing, RoundEffect.Score.class).score();
        assertThat(score.aggregate()).as("nobody finished").isFalse();
        List<RoundEffect> waiting = course.scored(scored(0, score));
        assertThat(started(waiting)).isEmpty();
        assertThat(one(waiting, RoundEffect.Arm.class)).isEqualTo(new RoundEffect.Arm(RoundEffect.Timer.WAIT, 1, Duration.ofSeconds(600)));

        List<RoundEffect> resumed = course.result(0, 0, stats(0, 0), adapter(0.2f));
        assertThat(resumed.get(0)).isEqualTo(new RoundEffect.Disarm(RoundEffect.Timer.WAIT));
        assertThat(started(resumed)).as("its late result frees it for round 2").containsExactly(0);
        assertThat(course.waitOver(1)).as("the wait is over already").isEmpty();
    }
}
