package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.model.nn.SplitPoint;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The U-shaped split over Artery and Kryo: the server's output goes to device nodes and the devices'
 * gradients at it come back through their nodes' routes to the shard, every micro-batch is trained
 * once, and the heads are averaged on the job host.
 */
@Tag("cluster")
class UShapedClusterTest {

    @Test
    void serverOutputsAndTheirGradientsCrossTheClusterAndEveryMicroBatchTrainsOnce() throws Exception {
        Config job = TestJobs.config(Map.of("mode", "splitfrozen", "federation.devices", 2, "federation.rounds", 2, "federation.split-points", "1",
                "privacy.u-shape.enabled", true, "privacy.u-shape.tail-blocks", 1, "pipeline.ack-timeout", "3s", "seed", 13));
        Config pinned = ConfigFactory.parseString("pekko.cluster.sharding.rebalance-interval = 1h").withFallback(job);
        JobResult r;
        try (LoopbackCluster cluster = new LoopbackCluster(pinned)) {
            cluster.start(List.of(SplitfedNode.AGGREGATOR), List.of());
            cluster.start(List.of(SplitfedNode.SERVER), List.of());
            cluster.start(List.of(SplitfedNode.DEVICE), List.of(0));
            cluster.start(List.of(SplitfedNode.DEVICE), List.of(1));
            r = cluster.result.get(5, TimeUnit.MINUTES);
        }
        assertThat(r.rounds()).hasSize(2);
        assertThat(r.rounds().get(1).done()).containsExactly(0, 1);
        for (DeviceRoundStats d : r.deviceStats()) {
            int trained = r.shardReports().stream().filter(s -> s.round() == d.round())
                    .mapToInt(s -> s.trainedSamples().getOrDefault(d.device(), 0)).sum();
            assertThat(trained).as("device %d round %d", d.device(), d.round()).isEqualTo(d.samples()).isPositive();
            assertThat(d.localLosses()).as("the device computed every loss").hasSize(d.microBatches());
        }
        assertThat(r.deviceAdapter().tensors().keySet()).anyMatch(k -> SplitPoint.layerOf(k) == -1);
        assertThat(r.shardReports()).allSatisfy(s -> assertThat(s.losses()).isEmpty());
    }
}
