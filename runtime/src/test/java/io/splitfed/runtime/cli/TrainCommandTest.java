package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.PeftAdapterFormat;
import io.splitfed.model.testing.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code splitfed train} writes metrics.json, a PEFT adapter and a summary; its help states the config's
 * defaults; a bad data file is named with its line; a split point past the model is explained.
 */
class TrainCommandTest {

    @TempDir
    Path tmp;

    private String[] small(String... extra) {
        String[] base = {"train", "--set", "splitfed.data-root=" + SharedData.root(), "--devices", "2", "--rounds", "2", "--epochs", "1",
            "--train-limit", "160", "--eval-limit", "48", "--max-length", "24", "--micro-batch", "8", "--no-progress", "--out", tmp.toString()};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void writesMetricsJsonAPeftAdapterAndASummary() throws Exception {
        CliRun r = CliRun.of(small("--mode", "sfl", "--split-points", "2"));
        assertThat(r.exit).as(r.err).isZero();
        assertThat(r.out).contains("== splitfed sfl").contains("final accuracy");

        JsonNode m = new ObjectMapper().readTree(tmp.resolve("metrics.json").toFile());
        assertThat(m.get("mode").asText()).isEqualTo("sfl");
        double accuracy = m.get("accuracy").asDouble();
        assertThat(accuracy).as("the last round's score").isEqualTo(m.get("rounds").get(1).get("accuracy").asDouble());
        assertThat(accuracy * 48).as("a share of the 48 validation rows").isCloseTo(Math.rint(accuracy * 48), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(r.out).contains(String.format(java.util.Locale.ROOT, "final accuracy %.4f", accuracy));
        assertThat(m.get("wall_seconds").asDouble()).isPositive();
        JsonNode once = m.get("exactly_once");
        long microBatches = 0;
        for (JsonNode d : m.get("devices")) {
            microBatches += d.get("microBatches").asLong();
        }
        assertThat(m.get("totals").get("rejected").asInt()).isZero();
        assertThat(once.get("answered").asLong()).as("every micro-batch the devices counted").isEqualTo(microBatches).isPositive();
        assertThat(once.get("trained_once").asLong()).isEqualTo(microBatches);
        assertThat(once.get("trained_twice").asLong()).isZero();
        assertThat(m.get("loss_per_step").size()).isGreaterThan(5);
        assertThat(m.get("rounds").size()).isEqualTo(2);
        JsonNode d0 = m.get("devices").get("0");
        assertThat(d0.get("computeSeconds").asDouble()).isPositive();
        assertThat(d0.get("flops").asDouble()).isPositive();
        assertThat(d0.get("bytesUp").asLong()).isPositive();
        assertThat(d0.get("bytesDown").asLong()).isPositive();
        assertThat(m.get("timeline").size()).isGreaterThan(10);

        LoraAdapter adapter = PeftAdapterFormat.load(tmp.resolve("adapter"));
        assertThat(adapter.modulePaths()).contains("model.layers.0.self_attn.q_proj", "model.layers.4.mlp.down_proj");
        assertThat(adapter.fullKeys()).containsExactly("score.weight");
    }

    @Test
    void theHelpStatesTheDefaultsTheConfigHas() {
        CliRun r = CliRun.of("train", "--help");
        assertThat(r.exit).isZero();
        var job = io.splitfed.actors.job.JobConfig.load(com.typesafe.config.ConfigFactory.empty()).getConfig("splitfed.job");
        String help = r.out.replaceAll("\\s+", " ");
        assertThat(help).contains("Simulated devices (default: " + job.getInt("federation.devices") + ")")
                .contains("Micro-batches a device keeps in flight (default: " + job.getInt("pipeline.window") + ")")
                .contains("(default: " + job.getString("federation.aggregation") + ")")
                .contains("fedavg | ffa | median | trimmed-mean:F")
                .doesNotContain("${bundle:");
    }

    @Test
    void aBadDataFileIsNamedWithItsLine() throws Exception {
        Path bad = tmp.resolve("bad.tsv");
        Files.writeString(bad, "sentence\tlabel\nfine\t1\nbroken row without label\n");
        CliRun r = CliRun.of(small("--train", bad.toString()));
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err).contains(bad + ":3:").contains("expected 2 tab-separated columns");
    }

    @Test
    void aSplitPointPastTheModelIsExplained() {
        CliRun r = CliRun.of(small("--split-points", "9"));
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err).contains("split point 9 is outside 0..5");
    }
}
