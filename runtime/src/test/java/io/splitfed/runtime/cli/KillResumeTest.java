package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.PeftAdapterFormat;
import io.splitfed.model.testing.SharedData;
import io.splitfed.runtime.testing.Scrape;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoublePredicate;

/**
 * A training JVM killed with SIGKILL in the middle of a round, then resumed: it goes on from the
 * checkpoint of the round before and ends with the adapters of a run that was never killed.
 */
@Tag("cluster")
class KillResumeTest {

    @TempDir
    Path tmp;

    /** SFL, one device, window 1: deterministic, so "the same adapters" can be checked to 1e-6. */
    private List<String> job() {
        return new ArrayList<>(List.of("train", "--set", "splitfed.data-root=" + SharedData.root(), "--mode", "sfl", "--split-points", "2",
                "--devices", "1", "--window", "1", "--rounds", "4", "--epochs", "2", "--train-limit", "256", "--eval-limit", "48",
                "--max-length", "24", "--micro-batch", "8", "--set", "splitfed.job.training.lora.dropout=0", "--no-progress"));
    }

    @Test
    void aKilledJobResumesFromTheLastCheckpointAndEndsWhereAnUnkilledOneEnds() throws Exception {
        List<String> whole = job();
        whole.addAll(List.of("--out", tmp.resolve("whole").toString()));
        CliRun reference = CliRun.of(whole.toArray(String[]::new));
        assertThat(reference.exit).as(reference.err).isZero();

        // the same job in a child JVM, on slow links so that a round takes seconds; killed mid-round
        Path ckpt = tmp.resolve("ckpt");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), SplitfedCommand.class.getName()));
        cmd.addAll(job());
        int metricsPort = NodeCommandTest.freePort();
        cmd.addAll(List.of("--set", "splitfed.job.links.enabled=true", "--set", "splitfed.job.links.uplink-mbps=2",
                "--checkpoint-dir", ckpt.toString(), "--out", tmp.resolve("killed").toString(), "--metrics-port", Integer.toString(metricsPort)));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path second = ckpt.resolve("round-0002.ckpt");
        // into round 3: its first micro-batches answered, as the job's own metrics say
        Scrape.await("http://127.0.0.1:" + metricsPort + "/metrics", Duration.ofMinutes(3),
                "splitfed_round", (DoublePredicate) r -> r >= 3, "splitfed_round_progress_ratio", (DoublePredicate) p -> p > 0);
        assertThat(second).as("the checkpoint after round 2").exists();
        assertThat(child.isAlive()).as("the child is still training round 3: %s", Files.readString(tmp.resolve("child.log"))).isTrue();
        child.destroyForcibly(); // SIGKILL
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as("killed, not finished").isNotZero();
        assertThat(Files.exists(tmp.resolve("killed").resolve("adapter"))).as("the killed run wrote no result").isFalse();
        String latest = Files.readString(ckpt.resolve("LATEST"), StandardCharsets.UTF_8).trim();
        assertThat(latest).isEqualTo("round-0002.ckpt");

        List<String> resume = job();
        resume.addAll(List.of("--resume", ckpt.toString(), "--out", tmp.resolve("resumed").toString()));
        CliRun resumed = CliRun.of(resume.toArray(String[]::new));
        assertThat(resumed.exit).as(resumed.err).isZero();

        JsonNode m = new ObjectMapper().readTree(tmp.resolve("resumed").resolve("metrics.json").toFile());
        assertThat(m.get("rounds").size()).as("rounds 1-2 from the checkpoint, 3-4 trained again").isEqualTo(4);
        LoraAdapter a = PeftAdapterFormat.load(tmp.resolve("whole").resolve("adapter"));
        LoraAdapter b = PeftAdapterFormat.load(tmp.resolve("resumed").resolve("adapter"));
        assertThat(b.tensors().keySet()).isEqualTo(a.tensors().keySet());
        a.tensors().forEach((k, t) -> assertThat(b.tensors().get(k).data()).as(k)
                .containsExactly(t.data(), org.assertj.core.data.Offset.offset(1e-6f)));
    }
}
