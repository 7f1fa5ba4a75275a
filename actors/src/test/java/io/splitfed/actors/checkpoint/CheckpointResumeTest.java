package io.splitfed.actors.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.model.lora.LoraAdapter;

import com.typesafe.config.Config;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** A job resumed from the checkpoint after round N ends exactly where the uninterrupted job ends. */
class CheckpointResumeTest {

    /** SFL, one device, window 1: deterministic, with optimizer moments on both sides and cut gradients. */
    private static Map<String, Object> job(Path dir, boolean resume) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("mode", "sfl");
        o.put("federation.devices", 1);
        o.put("pipeline.window", 1);
        o.put("federation.rounds", 3);
        o.put("federation.epochs", 2);
        o.put("federation.split-points", "2");
        o.put("training.lora.dropout", 0.0);
        o.put("data.train-limit", 96);
        o.put("checkpoint.dir", dir.toString());
        o.put("checkpoint.keep", 5);
        o.put("checkpoint.resume", resume);
        return o;
    }

    @Test
    void resumingFromRoundOneEndsWithTheSameAdapters(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("ckpt");
        JobResult whole = TestJobs.run(TestJobs.config(job(dir, false)));
        assertThat(Files.list(dir).map(p -> p.getFileName().toString()).sorted().toList())
                .containsExactly("LATEST", "round-0001.ckpt", "round-0002.ckpt", "round-0003.ckpt");

        // as if the job had died during round 2: the newest checkpoint is the one after round 1
        Path resumeDir = tmp.resolve("resume");
        Files.createDirectories(resumeDir);
        Files.copy(dir.resolve("round-0001.ckpt"), resumeDir.resolve("round-0001.ckpt"));
        Files.writeString(resumeDir.resolve("LATEST"), "round-0001.ckpt\n", StandardCharsets.UTF_8);
        JobResult resumed = TestJobs.run(TestJobs.config(job(resumeDir, true)));

        assertThat(resumed.rounds()).extracting(RoundSummary::round).containsExactly(0, 1, 2);
        assertThat(resumed.rounds().get(0)).isEqualTo(whole.rounds().get(0)); // carried over from the checkpoint
        assertSame(resumed.deviceAdapter(), whole.deviceAdapter());
        assertSame(resumed.serverAdapter(), whole.serverAdapter());
        assertThat(resumed.rounds().get(2).accuracy()).isEqualTo(whole.rounds().get(2).accuracy());
    }

    @Test
    void aDamagedCheckpointIsAClearError(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("ckpt");
        TestJobs.run(TestJobs.config(with(job(dir, false), "federation.rounds", 1)));
        Path file = dir.resolve("round-0001.ckpt");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        ActorTestKit kit = ActorTestKit.create(TestJobs.config(Map.of()));
        try {
            assertThatThrownBy(() -> Checkpoints.latest(kit.system(), dir, null))
                    .hasMessageContaining("round-0001.ckpt").hasMessageContaining("truncated");
            Files.writeString(file, "not a checkpoint\n");
            assertThatThrownBy(() -> Checkpoints.read(kit.system(), file)).hasMessageContaining("is not a splitfed checkpoint");
        } finally {
            kit.shutdownTestKit();
        }
    }

    private static Map<String, Object> with(Map<String, Object> m, String k, Object v) {
        Map<String, Object> o = new LinkedHashMap<>(m);
        o.put(k, v);
        return o;
    }

    static void assertSame(LoraAdapter a, LoraAdapter b) {
        assertThat(a.tensors().keySet()).isEqualTo(b.tensors().keySet());
        a.tensors().forEach((k, t) -> assertThat(t.data()).as(k).containsExactly(b.tensors().get(k).data(), org.assertj.core.data.Offset.offset(1e-6f)));
    }
}
