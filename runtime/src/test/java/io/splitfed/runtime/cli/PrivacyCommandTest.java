package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.io.BuiltinModels;
import io.splitfed.model.testing.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a server can read at the default cut (all-MiniLM-L6-v2 after block 1), on held-out SST-2
 * sentences and an attacker's own MNLI text: with no defence splitfed's attack reads back at least
 * 95% of the real tokens; under --privacy recommended at most 20%. And a capture writes exactly what
 * the server receives as NumPy files that name their shapes.
 */
class PrivacyCommandTest {

    private static final Pattern RECOVERED = Pattern.compile("recovered (\\d+) of (\\d+) tokens");

    private static double attack(String... extra) {
        String[] base = {"privacy", "attack", "--set", "splitfed.data-root=" + SharedData.root(), "--model", BuiltinModels.MINILM, "--train-limit", "3000",
            "--victims", "60", "--public-limit", "1200"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        CliRun run = CliRun.of(args);
        assertThat(run.exit).as(run.err).isZero();
        Matcher m = RECOVERED.matcher(run.out);
        assertThat(m.find()).as(run.out).isTrue();
        assertThat(Long.parseLong(m.group(2))).as("real tokens attacked").isGreaterThan(500);
        return Double.parseDouble(m.group(1)) / Double.parseDouble(m.group(2));
    }

    @Test
    void anUndefendedCutIsReadBackAndTheRecommendedDefenceStopsTheAttack() {
        assertThat(attack()).as("no defence").isGreaterThanOrEqualTo(0.95);
        assertThat(attack("--privacy", "recommended")).as("--privacy recommended").isLessThanOrEqualTo(0.20);
    }

    @Test
    void aCaptureWritesWhatTheServerReceivesAsNumpyFiles(@TempDir Path dir) throws Exception {
        CliRun run = CliRun.of("privacy", "capture", "--set", "splitfed.data-root=" + SharedData.root(), "--model", BuiltinModels.MINILM,
                "--train-limit", "2000", "--limit", "12",
                "--out", dir.toString(), "--set", "splitfed.job.pipeline.uplink-bits=8", "--privacy", "recommended");
        assertThat(run.exit).as(run.err).isZero();
        String header = npyHeader(dir.resolve("activations.npy"));
        assertThat(header).contains("'descr': '<f4'").containsPattern("'shape': \\(12, \\d+, 384\\)");
        assertThat(npyHeader(dir.resolve("mask.npy"))).contains("'|b1'").containsPattern("'shape': \\(12, \\d+\\)");
        assertThat(npyHeader(dir.resolve("token_ids.npy"))).contains("'<i4'");
        assertThat(npyHeader(dir.resolve("labels.npy"))).contains("'shape': (12,)");
        JsonNode meta = new ObjectMapper().readTree(dir.resolve("meta.json").toFile());
        assertThat(meta.get("cut").asInt()).isEqualTo(1);
        assertThat(meta.get("bits").asInt()).isEqualTo(8);
        assertThat(meta.get("clip").asDouble()).isEqualTo(JobOptions.RECOMMENDED_CLIP);
        assertThat(meta.get("noise_sigma").asDouble()).isEqualTo(JobOptions.RECOMMENDED_SIGMA);
        byte[] file = Files.readAllBytes(dir.resolve("activations.npy"));
        int headerLength = (file[8] & 0xff) | (file[9] & 0xff) << 8;
        assertThat((10 + headerLength) % 64).as("the data starts on a 64-byte boundary").isZero();
    }

    private static String npyHeader(Path file) throws Exception {
        byte[] b = Files.readAllBytes(file);
        assertThat(b[0] & 0xff).isEqualTo(0x93);
        assertThat(new String(b, 1, 5, StandardCharsets.US_ASCII)).isEqualTo("NUMPY");
        int length = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        return new String(b, 10, length, StandardCharsets.US_ASCII);
    }
}
