package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Honest exits: every mistake in what the user gave exits 2 with one line that names the file,
 * flag or key and what was expected, and no stack trace; a damaged newest checkpoint falls back to
 * the newest intact one.
 */
class ExitCodeTest {

    @TempDir
    Path tmp;

    private String[] train(String... extra) {
        return train(2, extra);
    }

    private String[] train(int rounds, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--set", "splitfed.data-root=" + SharedData.root(), "--devices", "2", "--rounds", "" + rounds,
                "--epochs", "1", "--train-limit", "96", "--eval-limit", "32", "--max-length", "24", "--micro-batch", "8", "--no-progress",
                "--out", tmp.resolve("out").toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static void assertOneLine(CliRun r) {
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err.strip().lines()).as(r.err).hasSize(1);
        assertThat(r.err).doesNotContain("\tat ").doesNotContain("Exception:");
    }

    @Test
    void aHoconSyntaxErrorNamesTheFileAndTheLine() throws Exception {
        Path bad = tmp.resolve("bad.conf");
        Files.writeString(bad, "splitfed.job {\n  mode = sfl\n  federation { devices = 2\n");
        CliRun r = CliRun.of(train("--config", bad.toString()));
        assertOneLine(r);
        assertThat(r.err).contains("bad.conf: 4");
    }

    @Test
    void aBadSetNamesTheFlagAndTheExpectedType() {
        CliRun r = CliRun.of(train("--set", "splitfed.job.federation.devices=abc"));
        assertOneLine(r);
        assertThat(r.err).contains("--set splitfed.job.federation.devices=abc").contains("NUMBER");
    }

    @Test
    void anUnknownSettingIsRefusedWithTheNearestKnownOne() throws Exception {
        CliRun r = CliRun.of(train("--set", "splitfed.job.federation.devises=4"));
        assertOneLine(r);
        assertThat(r.err).contains("splitfed.job.federation.devises (--set splitfed.job.federation.devises=4").contains("is not a setting")
                .contains("did you mean splitfed.job.federation.devices?");

        Path conf = tmp.resolve("typo.conf");
        Files.writeString(conf, "splitfed.job.training {\n  lerning-rate = 0.1\n}\n");
        CliRun file = CliRun.of(train("--config", conf.toString()));
        assertOneLine(file);
        assertThat(file.err).contains("splitfed.job.training.lerning-rate (").contains("typo.conf: 2")
                .contains("did you mean splitfed.job.training.learning-rate?");
    }

    @Test
    void aDamagedNewestCheckpointFallsBackToTheNewestIntactOneAndNoneIntactExitsTwoNamingTheFiles() throws Exception {
        Path ckpt = tmp.resolve("ckpt");
        CliRun first = CliRun.of(train("--checkpoint-dir", ckpt.toString()));
        assertThat(first.exit).as(first.err).isZero();
        Path newest = ckpt.resolve("round-0002.ckpt");
        Path older = ckpt.resolve("round-0001.ckpt");
        assertThat(newest).exists();
        assertThat(older).exists();
        try (FileChannel ch = FileChannel.open(newest, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }

        CliRun resumed = CliRun.of(train(3, "--resume", ckpt.toString()));
        assertThat(resumed.exit).as(resumed.err).isZero();
        var m = new ObjectMapper().readTree(tmp.resolve("out").resolve("metrics.json").toFile());
        assertThat(m.get("rounds").size()).as("round 1 from the intact checkpoint, rounds 2 and 3 trained").isEqualTo(3);

        // every checkpoint damaged (the resumed run wrote round-0002 and -0003 again: damage them all)
        try (var files = Files.list(ckpt)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".ckpt")).toList()) {
                Files.write(f, new byte[] {1, 2, 3});
            }
        }
        CliRun none = CliRun.of(train(4, "--resume", ckpt.toString()));
        assertOneLine(none);
        assertThat(none.err).contains("no intact checkpoint in " + ckpt).contains("round-0003.ckpt").contains("round-0002.ckpt")
                .contains("is not a splitfed checkpoint");
    }

    @Test
    void anotherJobsCheckpointExitsTwoNamingEachFieldThatDiffers() throws Exception {
        Path ckpt = tmp.resolve("ckpt");
        CliRun first = CliRun.of(train(1, "--checkpoint-dir", ckpt.toString()));
        assertThat(first.exit).as(first.err).isZero();
        assertThat(Files.readAllLines(ckpt.resolve("round-0001.ckpt"), java.nio.charset.StandardCharsets.ISO_8859_1).subList(0, 6))
                .as("the header names the job, readable with head").contains("job.mode: splitfrozen", "job.lora.rank: 8");

        CliRun rank = CliRun.of(train(2, "--resume", ckpt.toString(), "--rank", "4"));
        assertOneLine(rank);
        assertThat(rank.err).contains("round-0001.ckpt is the checkpoint of another job").contains("lora.rank: checkpoint 8, this job 4");

        CliRun devices = CliRun.of(train(2, "--resume", ckpt.toString(), "--set", "splitfed.job.federation.devices=3"));
        assertOneLine(devices);
        assertThat(devices.err).contains("devices: checkpoint 2, this job 3").doesNotContain("lora.rank");

        CliRun task = CliRun.of(train(2, "--resume", ckpt.toString(), "--train", SharedData.path("mrpc/train.tsv").toString()));
        assertOneLine(task);
        assertThat(task.err).contains("task: checkpoint sst2, this job mrpc").contains("labels: ").contains("train-data: checkpoint sha256 ");

        // a safe change (more rounds) resumes
        CliRun more = CliRun.of(train(2, "--resume", ckpt.toString()));
        assertThat(more.exit).as(more.err).isZero();
    }

    @Test
    void aCheckpointInAnUnknownSerializerFallsBackAndWithNoneIntactExitsTwo() throws Exception {
        Path ckpt = tmp.resolve("ckpt");
        CliRun first = CliRun.of(train("--checkpoint-dir", ckpt.toString()));
        assertThat(first.exit).as(first.err).isZero();
        unknownSerializer(ckpt.resolve("round-0002.ckpt"));

        CliRun resumed = CliRun.of(train(3, "--resume", ckpt.toString()));
        assertThat(resumed.exit).as(resumed.err).isZero();
        var m = new ObjectMapper().readTree(tmp.resolve("out").resolve("metrics.json").toFile());
        assertThat(m.get("rounds").size()).as("round 1 from the intact checkpoint, rounds 2 and 3 trained").isEqualTo(3);

        try (var files = Files.list(ckpt)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".ckpt")).toList()) {
                unknownSerializer(f);
            }
        }
        CliRun none = CliRun.of(train(4, "--resume", ckpt.toString()));
        assertOneLine(none);
        assertThat(none.err).contains("no intact checkpoint in " + ckpt).contains("cannot decode the checkpoint").contains("NotSerializableException");
    }

    /** Rewrites the header's serializer id to one no splitfed has, keeping the file otherwise whole. */
    private static void unknownSerializer(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        String changed = text.replaceFirst("\nserializer: -?\\d+\n", "\nserializer: 987654\n");
        assertThat(changed).isNotEqualTo(text);
        Files.write(file, changed.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }
}
