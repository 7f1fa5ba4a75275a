package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.RoundSummary;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A cluster job writes checkpoints on its job host; a new cluster started with resume on goes on
 * from the one after round 1 (shards from the shard store, devices from their snapshots) and ends
 * with the adapters the first cluster ended with.
 */
@Tag("cluster")
class ClusterResumeTest {

    private static Config job(Path dir, boolean resume) {
        return ConfigFactory.parseMap(Map.of("splitfed.job.checkpoint.dir", dir.toString(), "splitfed.job.checkpoint.keep", 5,
                "splitfed.job.checkpoint.resume", resume)).withFallback(LoopbackClusterTest.job()).resolve();
    }

    @Test
    void aRestartedClusterGoesOnFromTheLastCheckpoint(@TempDir Path tmp) throws Exception {
        Path first = tmp.resolve("first");
        JobResult whole = LoopbackClusterTest.runSixNodes(job(first, false));
        assertThat(Files.exists(first.resolve("round-0001.ckpt"))).isTrue();
        assertThat(Files.exists(first.resolve("round-0002.ckpt"))).isTrue();

        Path again = tmp.resolve("again");
        Files.createDirectories(again);
        Files.copy(first.resolve("round-0001.ckpt"), again.resolve("round-0001.ckpt"));
        Files.writeString(again.resolve("LATEST"), "round-0001.ckpt\n", StandardCharsets.UTF_8);
        JobResult resumed = LoopbackClusterTest.runSixNodes(job(again, true));

        assertThat(resumed.rounds()).extracting(RoundSummary::round).containsExactly(0, 1);
        assertThat(resumed.rounds().get(1).done()).containsExactly(0, 1, 2);
        LoopbackClusterTest.assertClose(resumed.deviceAdapter(), whole.deviceAdapter());
        LoopbackClusterTest.assertClose(resumed.serverAdapter(), whole.serverAdapter());
    }
}
