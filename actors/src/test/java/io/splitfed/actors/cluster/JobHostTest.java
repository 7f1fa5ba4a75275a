package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.server.ShardStore;
import io.splitfed.actors.testing.TestJobs;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

/** The job host's registrations, message by message (a FedLoRA job: no shards, so no cluster is needed). */
class JobHostTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final Duration WAIT = Duration.ofSeconds(30);

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    @Test
    void aJobHostTakingOverWithNoCheckpointToResumeFromTellsEveryNodeWhyAndStartsNothing() {
        JobPlan plan = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", "fedlora", "federation.devices", 2))));
        TestProbe<Aggregator.Command> aggregator = KIT.createTestProbe();
        TestProbe<ShardStore.Command> store = KIT.createTestProbe();
        TestProbe<JobResult> result = KIT.createTestProbe();
        ActorRef<ClusterProtocol> host = KIT.spawn(JobHost.create(plan, aggregator.getRef(), store.getRef(), null, result.getRef()));
        JobFingerprint fingerprint = JobFingerprint.of(plan.spec());

        TestProbe<ClusterProtocol.Registration> standby = KIT.createTestProbe();
        host.tell(new ClusterProtocol.RegisterStandby(fingerprint, "standby", standby.getRef(), null));
        assertThat(standby.expectMessageClass(ClusterProtocol.Accepted.class, WAIT).host()).isEqualTo(host);

        TestProbe<ClusterProtocol.Registration> edge = KIT.createTestProbe();
        for (int d = 0; d < 2; d++) {
            TestProbe<DeviceActor.Command> device = KIT.createTestProbe();
            // registered again: the job host they first registered with was lost
            host.tell(new ClusterProtocol.RegisterDevice(d, device.getRef(), fingerprint, "edge", true, edge.getRef(), null));
            edge.expectMessageClass(ClusterProtocol.Accepted.class, WAIT);
        }
        String reason = edge.expectMessageClass(ClusterProtocol.Abandoned.class, WAIT).reason();
        assertThat(reason).contains("the job host was lost").contains("splitfed.job.checkpoint.dir");
        assertThat(standby.expectMessageClass(ClusterProtocol.Abandoned.class, WAIT).reason()).isEqualTo(reason);
        store.expectNoMessage(Duration.ZERO); // the host gave up in the message that would have started a coordinator: no watch was asked for
        result.expectNoMessage(Duration.ZERO);
    }

    @Test
    void aRegistrationWhoseSettingsDifferIsRefusedNamingTheSetting() {
        JobPlan plan = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", "fedlora", "federation.devices", 2))));
        JobPlan other = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", "fedlora", "federation.devices", 2, "training.lora.rank", 4))));
        ActorRef<ClusterProtocol> host = KIT.spawn(JobHost.create(plan, KIT.<Aggregator.Command>createTestProbe().getRef(),
                KIT.<ShardStore.Command>createTestProbe().getRef(), null, KIT.<JobResult>createTestProbe().getRef()));
        TestProbe<ClusterProtocol.Registration> standby = KIT.createTestProbe();
        host.tell(new ClusterProtocol.RegisterStandby(JobFingerprint.of(other.spec()), "standby", standby.getRef(), null));
        assertThat(standby.expectMessageClass(ClusterProtocol.Refused.class, WAIT).reason())
                .isEqualTo("splitfed.job.training.lora = rank 4, alpha 16.0, targets [Q, K, V, O, MLP] on this node but rank 8, alpha 16.0, targets [Q, K, V, O, MLP] on the job host");

        // an edge node without the job's defence on the cut would send its devices' activations bare
        JobPlan bare = new JobPlan(TestJobs.prepare(TestJobs.config(Map.of("mode", "fedlora", "federation.devices", 2, "privacy.clip", 12.0,
                "privacy.noise-sigma", 0.3))));
        host.tell(new ClusterProtocol.RegisterStandby(JobFingerprint.of(bare.spec()), "standby", standby.getRef(), null));
        assertThat(standby.expectMessageClass(ClusterProtocol.Refused.class, WAIT).reason())
                .isEqualTo("splitfed.job.privacy = clip 12.0, noise-sigma 0.3 on this node but clip 0.0, noise-sigma 0.0 on the job host");
    }
}
