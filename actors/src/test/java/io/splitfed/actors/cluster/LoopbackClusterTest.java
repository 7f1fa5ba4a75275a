package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One aggregator, two server nodes and three device nodes train SST-2 over Artery and Kryo; the
 * adapters they end with are those of the same job run in one JVM.
 */
@Tag("cluster")
class LoopbackClusterTest {

    static Config job() {
        return TestJobs.config(Map.of("mode", "sfl", "server.sfl-server-model", "per-device", "server.shards", 2,
                "federation.devices", 3, "federation.rounds", 2, "training.lora.dropout", 0.0, "seed", 11, "pipeline.ack-timeout", "3s"));
    }

    @Test
    void sixNodesTrainTheSameAdaptersAsOneJvm() throws Exception {
        Config job = job();
        JobResult local = TestJobs.run(job);
        JobResult remote = runSixNodes(job);
        assertThat(remote.rounds()).hasSize(2);
        assertThat(remote.rounds().get(1).done()).containsExactly(0, 1, 2);
        long samples = remote.shardReports().stream().flatMap(r -> r.trainedSamples().values().stream()).mapToLong(Integer::longValue).sum();
        long localSamples = local.shardReports().stream().flatMap(r -> r.trainedSamples().values().stream()).mapToLong(Integer::longValue).sum();
        assertThat(samples).isEqualTo(localSamples).isPositive();
        assertClose(remote.deviceAdapter(), local.deviceAdapter());
        assertClose(remote.serverAdapter(), local.serverAdapter());
        assertThat(remote.finalAccuracy()).isEqualTo(local.finalAccuracy());
    }

    /**
     * One aggregator, two server and three device nodes (one device each) train {@code job}. Shards
     * stay where they are first placed: a rebalance's hand-off may strand a micro-batch in the old
     * incarnation until its resend, letting the device's next one train first (RebalanceTest covers
     * hand-offs).
     */
    static JobResult runSixNodes(Config job) throws Exception {
        Config pinned = ConfigFactory.parseString("pekko.cluster.sharding.rebalance-interval = 1h").withFallback(job);
        try (LoopbackCluster cluster = new LoopbackCluster(pinned)) {
            cluster.start(List.of(SplitfedNode.AGGREGATOR), List.of());
            cluster.start(List.of(SplitfedNode.SERVER), List.of());
            cluster.start(List.of(SplitfedNode.SERVER), List.of());
            for (int d = 0; d < 3; d++) {
                cluster.start(List.of(SplitfedNode.DEVICE), List.of(d));
            }
            return cluster.result.get(5, TimeUnit.MINUTES);
        }
    }

    static void assertClose(LoraAdapter actual, LoraAdapter expected) {
        assertThat(actual.tensors().keySet()).containsExactlyInAnyOrderElementsOf(expected.tensors().keySet());
        for (Map.Entry<String, HostTensor> e : expected.tensors().entrySet()) {
            float[] a = actual.tensors().get(e.getKey()).data();
            float[] b = e.getValue().data();
            float worst = 0;
            for (int i = 0; i < b.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]));
            }
            // devices step in sequence order and every link keeps its order, so the runs agree to the bit
            assertThat(worst).as("largest difference in %s", e.getKey()).isZero();
        }
    }
}
