package io.splitfed.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.model.testing.SharedData;

import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Test;

/** The example host application trains its job inside its own ActorSystem. */
class EmbeddedNodeTest {

    @Test
    void theHostApplicationTrainsAJobInItsOwnActorSystem() throws Exception {
        JobResult r = EmbeddedNode.run(ConfigFactory.parseString("splitfed.data-root = \"" + SharedData.root() + "\""));
        assertThat(r.rounds()).hasSize(2);
        assertThat(r.rounds().get(1).done()).containsExactly(0, 1);
        assertThat(r.serverAdapter()).isNotNull();
        double accuracy = r.finalAccuracy();
        assertThat(accuracy * 100).as("a share of the 100 validation rows (eval-limit)").isCloseTo(Math.rint(accuracy * 100), org.assertj.core.data.Offset.offset(1e-9));
    }
}
