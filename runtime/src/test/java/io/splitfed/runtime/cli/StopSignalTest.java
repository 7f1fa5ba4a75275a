package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * SIGTERM, as {@code systemctl stop}, {@code docker stop} and Kubernetes send it, at 20 seeded random
 * moments of a training JVM (loading, training, evaluating, writing checkpoints): every stop exits
 * 143 with one line naming the newest checkpoint and the command that resumes it, no stop leaves a
 * JVM crash file, and resuming through all of them finishes the job.
 */
@Tag("cluster")
class StopSignalTest {

    private static final int STOPS = 20;
    private static final int ROUNDS = 8;

    @TempDir
    Path tmp;

    private List<String> job(Path ckpt, boolean resume) {
        return new ArrayList<>(List.of("train", "--set", "splitfed.data-root=" + SharedData.root(), "--devices", "2", "--rounds", "" + ROUNDS,
                "--epochs", "4", "--train-limit", "2000", "--eval-limit", "200", "--max-length", "32", "--micro-batch", "16", "--no-progress",
                resume ? "--resume" : "--checkpoint-dir", ckpt.toString(), "--out", tmp.resolve("out").toString()));
    }

    @Test
    void sigtermAtRandomMomentsStopsCleanlyAndTheResumedJobFinishes() throws Exception {
        Random random = new Random(20261207);
        Path ckpt = tmp.resolve("ckpt");
        List<String> stops = new ArrayList<>();
        for (int i = 0; i < STOPS; i++) {
            Path log = tmp.resolve("stop-" + i + ".log");
            Process child = start(job(ckpt, Files.exists(ckpt.resolve("LATEST"))), log);
            long delay = 500 + random.nextInt(4_500);
            boolean ended = child.waitFor(delay, TimeUnit.MILLISECONDS);
            if (ended) { // finished before the signal: start the job afresh and stop that one
                assertThat(child.exitValue()).as(Files.readString(log)).isZero();
                deleteTree(ckpt);
                i--;
                continue;
            }
            child.destroy(); // SIGTERM
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("stopped within a minute of SIGTERM").isTrue();
            String out = Files.readString(log);
            assertThat(child.exitValue()).as(out).isEqualTo(143);
            List<String> said = out.lines().filter(l -> l.startsWith("splitfed train: stopped by SIGTERM")).toList();
            assertThat(said).as(out).hasSize(1);
            String last = said.get(0);
            if (Files.exists(ckpt.resolve("LATEST"))) {
                String newest = Files.readString(ckpt.resolve("LATEST")).strip();
                assertThat(last).contains("the newest checkpoint is " + ckpt.resolve(newest)).contains("resume with: splitfed train ")
                        .contains("--resume " + ckpt);
            } else {
                assertThat(last).contains("no checkpoint was written yet in " + ckpt);
            }
            assertThat(out).as("stopped without a stack trace").doesNotContain("\tat ");
            stops.add(delay + " ms: " + last);
        }
        try (Stream<Path> crashes = Files.list(tmp)) {
            assertThat(crashes.filter(p -> p.getFileName().toString().startsWith("hs_err"))).as("JVM crash files").isEmpty();
        }

        Path log = tmp.resolve("finish.log");
        Process child = start(job(ckpt, Files.exists(ckpt.resolve("LATEST"))), log);
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(child.exitValue()).as(Files.readString(log)).isZero();
        JsonNode m = new ObjectMapper().readTree(tmp.resolve("out").resolve("metrics.json").toFile());
        assertThat(m.get("rounds").size()).as("every round, carried from checkpoints or trained: %s", stops).isEqualTo(ROUNDS);
    }

    private Process start(List<String> args, Path log) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-XX:ErrorFile=" + tmp.resolve("hs_err_pid%p.log"), "-cp", System.getProperty("java.class.path"), SplitfedCommand.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static void deleteTree(Path dir) throws Exception {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
