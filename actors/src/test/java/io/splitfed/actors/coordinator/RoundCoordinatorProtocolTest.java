package io.splitfed.actors.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.plan.DeviceProfile;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.train.Evaluation;

import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The coordinator driven message by message, with probes for its devices, shard and aggregator:
 * the profiling handshake, a round that closes when all have answered, a forged result, a NaN
 * update from the device's own actor, and a round closed by its deadline.
 */
class RoundCoordinatorProtocolTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final Duration WAIT = Duration.ofSeconds(10);

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    private final TestProbe<DeviceActor.Command> device0 = KIT.createTestProbe();
    private final TestProbe<DeviceActor.Command> device1 = KIT.createTestProbe();
    private final TestProbe<ServerShard.Command> shard = KIT.createTestProbe();
    private final TestProbe<Aggregator.Command> aggregator = KIT.createTestProbe();
    private final TestProbe<JobResult> result = KIT.createTestProbe();

    private ActorRef<RoundCoordinator.Command> coordinator(String mode, String deadline, LoraAdapter initialDevice) {
        JobSpec spec = JobSpec.fromConfig(JobConfig.load(ConfigFactory.parseMap(Map.of(
                "splitfed.job.mode", mode, "splitfed.job.federation.devices", 2, "splitfed.job.federation.rounds", 1,
                "splitfed.job.federation.round-deadline", deadline, "splitfed.job.federation.min-devices", 1,
                "splitfed.job.robustness.quarantine-after", 1))));
        Map<Integer, ActorRef<DeviceActor.Command>> devices = new LinkedHashMap<>();
        devices.put(0, device0.getRef());
        devices.put(1, device1.getRef());
        return KIT.spawn(RoundCoordinator.create(new CoordinatorSettings(spec, devices, List.of(shard.getRef()), Map.of(0, 0, 1, 0),
                aggregator.getRef(), Map.of(0, 3, 1, 3), initialDevice, null, (dev, srv) -> new Evaluation.Result(0.75, 0.5, 4), null,
                result.getRef(), 4, null, null)));
    }

    /** Answers both profile requests, then returns each device's StartRound. */
    private Map<Integer, DeviceActor.StartRound> profileAndStart(ActorRef<RoundCoordinator.Command> coordinator) {
        coordinator.tell(RoundCoordinator.Start.INSTANCE);
        int d = 0;
        for (TestProbe<DeviceActor.Command> probe : List.of(device0, device1)) {
            DeviceActor.Profile p = probe.expectMessageClass(DeviceActor.Profile.class, WAIT);
            assertThat(p.steps()).isEqualTo(3);
            p.replyTo().tell(new DeviceActor.Profiled(new DeviceProfile(d++, 0.01, 8, 1, 16, 384)));
        }
        assertThat(shard.expectMessageClass(ServerShard.RoundStarted.class, WAIT).round()).isZero();
        Map<Integer, DeviceActor.StartRound> starts = new LinkedHashMap<>();
        starts.put(0, device0.expectMessageClass(DeviceActor.StartRound.class, WAIT));
        starts.put(1, device1.expectMessageClass(DeviceActor.StartRound.class, WAIT));
        starts.values().forEach(s -> assertThat(s.round()).isZero());
        assertThat(starts.get(0).steps()).isEqualTo(3);
        return starts;
    }

    private static DeviceRoundStats stats(int device, int samples) {
        return new DeviceRoundStats(device, 0, samples, 3, 0, 0.1, 1e6, 1000, 10, 0, List.of(), List.of(), 0);
    }

    private void shardCloses() {
        ServerShard.CloseRound close = shard.expectMessageClass(ServerShard.CloseRound.class, WAIT);
        assertThat(close.round()).isZero();
        close.replyTo().tell(new ServerShard.Closed(new ShardRoundReport(0, 0, Map.of(), 0, List.of(), List.of(), 1.0, 1e9, 0, List.of(),
                Map.of(), "here"), Map.of(), Map.of()));
    }

    /** The shard closes the round and the aggregator answers; returns the job's result. */
    private RoundSummary closeAndAggregate(int expectedDeviceUpdates) {
        shardCloses();
        Aggregator.Aggregate agg = aggregator.expectMessageClass(Aggregator.Aggregate.class, WAIT);
        assertThat(agg.deviceUpdates()).hasSize(expectedDeviceUpdates);
        agg.replyTo().tell(new Aggregator.Result(0, null, null, List.of()));
        JobResult r = result.expectMessageClass(JobResult.class, WAIT);
        assertThat(r.rounds()).hasSize(1);
        return r.rounds().get(0);
    }

    @Test
    void aRoundClosesWhenEverySampledDeviceHasAnsweredAndAForgedResultIsNotCounted() {
        ActorRef<RoundCoordinator.Command> coordinator = coordinator("splitfrozen", "1m", null);
        Map<Integer, DeviceActor.StartRound> starts = profileAndStart(coordinator);
        ActorRef<DeviceActor.Report> reply = starts.get(0).coordinator();

        reply.tell(new DeviceActor.RoundDone(0, 0, stats(0, 24), null, device0.getRef()));
        // device 1's result, sent by someone else: refused, and the round still waits for device 1
        reply.tell(new DeviceActor.RoundDone(1, 0, stats(1, 24), null, device0.getRef()));
        // had the forged result counted, the round would have closed on it with 48 samples: the summary below says 44
        reply.tell(new DeviceActor.RoundDone(1, 0, stats(1, 20), null, device1.getRef()));

        RoundSummary s = closeAndAggregate(0);
        assertThat(s.done()).containsExactly(0, 1);
        assertThat(s.samples()).isEqualTo(44);
        assertThat(s.accuracy()).isEqualTo(0.75);
        assertThat(s.closedByDeadline()).isFalse();
    }

    @Test
    void aNanUpdateFromTheDevicesOwnActorIsRefusedAndNotWaitedFor() {
        LoraAdapter global = adapter(0.5f);
        ActorRef<RoundCoordinator.Command> coordinator = coordinator("fedlora", "1m", global);
        Map<Integer, DeviceActor.StartRound> starts = profileAndStart(coordinator);
        assertThat(starts.get(0).global().sha256()).isEqualTo(global.sha256());
        ActorRef<DeviceActor.Report> reply = starts.get(0).coordinator();

        reply.tell(new DeviceActor.RoundDone(0, 0, stats(0, 24), adapter(0.25f), device0.getRef()));
        reply.tell(new DeviceActor.RoundDone(1, 0, stats(1, 24), adapter(Float.NaN), device1.getRef()));

        shardCloses();
        Aggregator.Aggregate agg = aggregator.expectMessageClass(Aggregator.Aggregate.class, WAIT);
        assertThat(agg.deviceUpdates()).singleElement().satisfies(u -> assertThat(u.source()).isZero());
        agg.replyTo().tell(new Aggregator.Result(0, adapter(0.25f), null, List.of()));
        RoundSummary s = result.expectMessageClass(JobResult.class, WAIT).rounds().get(0);
        assertThat(s.done()).containsExactly(0);
        assertThat(s.benched()).as("one refused update quarantines (quarantine-after 1)").containsExactly(1);
    }

    @Test
    void aDeviceThatNeverAnswersIsAbortedAtTheDeadline() {
        ActorRef<RoundCoordinator.Command> coordinator = coordinator("splitfrozen", "1s", null);
        Map<Integer, DeviceActor.StartRound> starts = profileAndStart(coordinator);
        starts.get(0).coordinator().tell(new DeviceActor.RoundDone(0, 0, stats(0, 24), null, device0.getRef()));

        assertThat(device1.expectMessageClass(DeviceActor.AbortRound.class, WAIT).round()).isZero();
        RoundSummary s = closeAndAggregate(0);
        assertThat(s.done()).containsExactly(0);
        assertThat(s.late()).containsExactly(1);
        assertThat(s.closedByDeadline()).isTrue();
    }

    @Test
    void aShardThatNeverReportsDoesNotHoldTheRoundPastTheCloseTimeout() {
        ActorTestKit kit = ActorTestKit.create(ConfigFactory.parseString("splitfed.coordinator.close-timeout = 1s")
                .withFallback(ConfigFactory.load()));
        try {
            TestProbe<DeviceActor.Command> d0 = kit.createTestProbe();
            TestProbe<DeviceActor.Command> d1 = kit.createTestProbe();
            TestProbe<ServerShard.Command> silent = kit.createTestProbe();
            TestProbe<Aggregator.Command> agg = kit.createTestProbe();
            TestProbe<JobResult> done = kit.createTestProbe();
            JobSpec spec = JobSpec.fromConfig(JobConfig.load(ConfigFactory.parseMap(Map.of("splitfed.job.mode", "splitfrozen",
                    "splitfed.job.federation.devices", 2, "splitfed.job.federation.rounds", 1, "splitfed.job.federation.min-devices", 1))));
            Map<Integer, ActorRef<DeviceActor.Command>> devices = new LinkedHashMap<>();
            devices.put(0, d0.getRef());
            devices.put(1, d1.getRef());
            ActorRef<RoundCoordinator.Command> c = kit.spawn(RoundCoordinator.create(new CoordinatorSettings(spec, devices, List.of(silent.getRef()),
                    Map.of(0, 0, 1, 0), agg.getRef(), Map.of(0, 3, 1, 3), null, null, (dev, srv) -> new Evaluation.Result(0.5, 0.5, 4), null,
                    done.getRef(), 4, null, null)));
            c.tell(RoundCoordinator.Start.INSTANCE);
            int d = 0;
            for (TestProbe<DeviceActor.Command> p : List.of(d0, d1)) {
                p.expectMessageClass(DeviceActor.Profile.class, WAIT).replyTo().tell(new DeviceActor.Profiled(new DeviceProfile(d++, 0.01, 8, 1, 16, 384)));
            }
            DeviceActor.StartRound start = d0.expectMessageClass(DeviceActor.StartRound.class, WAIT);
            start.coordinator().tell(new DeviceActor.RoundDone(0, 0, stats(0, 24), null, d0.getRef()));
            start.coordinator().tell(new DeviceActor.RoundDone(1, 0, stats(1, 24), null, d1.getRef()));
            silent.expectMessageClass(ServerShard.RoundStarted.class, WAIT);
            silent.expectMessageClass(ServerShard.CloseRound.class, WAIT); // and never answers: its node is gone
            Aggregator.Aggregate a = agg.expectMessageClass(Aggregator.Aggregate.class, Duration.ofSeconds(5));
            assertThat(a.serverReplicas()).as("nothing from the silent shard").isEmpty();
            a.replyTo().tell(new Aggregator.Result(0, null, null, List.of()));
            assertThat(done.expectMessageClass(JobResult.class, WAIT).rounds()).hasSize(1);
        } finally {
            kit.shutdownTestKit();
        }
    }

    private static LoraAdapter adapter(float value) {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("score.weight", new HostTensor(new int[] {2, 2}, new float[] {value, value, value, value}));
        return new LoraAdapter(new LoraConfig(2, 4, 0.0, Set.of(LoraTarget.Q)), t, Set.of());
    }
}
