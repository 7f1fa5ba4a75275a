package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.io.BuiltinModels;
import io.splitfed.model.testing.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A user trains on the built-in MiniLM, then scores the saved adapter on their own file. */
class EvaluateCommandTest {

    @TempDir
    Path tmp;

    @Test
    void evaluatingTheSavedAdapterGivesTheAccuracyTheRunReported() throws Exception {
        // 120 SST-2 rows of 8 words or more, as a user's own dev file
        List<String> lines = Files.readAllLines(SharedData.sst2());
        List<String> dev = new ArrayList<>(List.of(lines.get(0)));
        for (int i = lines.size() - 1; i > 0 && dev.size() <= 120; i -= 7) {
            if (lines.get(i).split("\t")[0].trim().split("\\s+").length >= 8) {
                dev.add(lines.get(i));
            }
        }
        Path devFile = tmp.resolve("dev.tsv");
        Files.write(devFile, dev);
        Path out = tmp.resolve("run");
        CliRun train = CliRun.of("train", "--set", "splitfed.data-root=" + SharedData.root(), "--model", BuiltinModels.MINILM,
                "--eval", devFile.toString(), "--eval-limit", "0", "--train-limit", "320", "--devices", "2", "--rounds", "1", "--epochs", "1",
                "--max-length", "32", "--micro-batch", "16", "--lr", "3e-3", "--no-progress", "--out", out.toString());
        assertThat(train.exit).as(train.err).isZero();
        double reported = new ObjectMapper().readTree(out.resolve("metrics.json").toFile()).get("accuracy").asDouble();

        Path scores = tmp.resolve("scores.json");
        CliRun eval = CliRun.of("evaluate", "--adapter", out.resolve("adapter").toString(), "--data", devFile.toString(),
                "--metrics-out", scores.toString());
        assertThat(eval.exit).as(eval.err).isZero();
        assertThat(eval.out).contains("accuracy").contains("confusion matrix");
        JsonNode s = new ObjectMapper().readTree(scores.toFile());
        assertThat(s.get("model").asText()).isEqualTo(BuiltinModels.MINILM); // the adapter names its base model
        assertThat(s.get("samples").asInt()).isEqualTo(dev.size() - 1);
        assertThat(s.get("accuracy").asDouble()).isCloseTo(reported, org.assertj.core.data.Offset.offset(0.005));

        JsonNode cm = s.get("confusion_matrix");
        int tn = cm.get(0).get(0).asInt();
        int fp = cm.get(0).get(1).asInt();
        int fn = cm.get(1).get(0).asInt();
        int tp = cm.get(1).get(1).asInt();
        assertThat(tn + fp + fn + tp).isEqualTo(dev.size() - 1);
        assertThat(s.get("accuracy").asDouble()).isCloseTo((double) (tp + tn) / (dev.size() - 1), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(s.get("f1").asDouble()).isCloseTo(2.0 * tp / (2.0 * tp + fp + fn), org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void dataWithOtherLabelsThanTheAdapterWasTrainedOnIsRefused() throws Exception {
        Path out = tmp.resolve("run");
        CliRun train = CliRun.of("train", "--set", "splitfed.data-root=" + SharedData.root(), "--train-limit", "64", "--eval-limit", "16",
                "--devices", "1", "--rounds", "1", "--epochs", "1", "--max-length", "16", "--micro-batch", "16", "--no-progress", "--out", out.toString());
        assertThat(train.exit).as(train.err).isZero();
        CliRun eval = CliRun.of("evaluate", "--adapter", out.resolve("adapter").toString(),
                "--data", SharedData.path("mnli/glue_pretrain_MNLI/dev.json").toString());
        assertThat(eval.exit).isEqualTo(2);
        assertThat(eval.err).contains("dev.json").contains("differ from");
    }
}
