package io.splitfed.model.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

/**
 * The shared GLUE files read with their published row counts, generic JSONL reads, and the
 * stratified split keeps class shares and is seeded.
 */
class DataReadersTest {

    @Test
    void readsTheSharedGlueFilesWithTheirPublishedCounts() {
        Dataset sst = DataSets.read(SharedData.sst2());
        assertThat(sst.size()).isEqualTo(67_349);
        assertThat(Arrays.stream(sst.labels()).filter(l -> l == 1).count()).isEqualTo(37_569);
        assertThat(sst.labelNames()).containsExactly("negative", "positive");
        assertThat(sst.examples().get(0).text()).isEqualTo("hide new secretions from the parental units");

        Dataset mrpc = DataSets.read(SharedData.path("mrpc/train.tsv"));
        assertThat(mrpc.size()).isEqualTo(3_668);
        assertThat(Arrays.stream(mrpc.labels()).filter(l -> l == 1).count()).isEqualTo(2_474);
        assertThat(mrpc.examples().get(0).textPair()).startsWith("Referring to him as only \"the witness\"");

        Dataset mnli = DataSets.read(SharedData.path("mnli/16-42/train.tsv"));
        assertThat(mnli.size()).isEqualTo(48);
        assertThat(mnli.numLabels()).isEqualTo(3);
        assertThat(Arrays.stream(mnli.labels()).distinct().count()).isEqualTo(3);
        assertThat(mnli.examples().get(0).text()).isEqualTo("That's all right.");

        Dataset mnliJson = DataSets.read(SharedData.path("mnli/glue_pretrain_MNLI/train.json"));
        assertThat(mnliJson.size()).isEqualTo(8_999);

        Dataset unlabelled = DataSets.read(SharedData.path("mrpc/test.tsv"));
        assertThat(unlabelled.examples().get(0).label()).isEqualTo(-1);
    }

    @Test
    void readsGsm8kAnswersAfterTheMarker() {
        Dataset gsm = DataSets.read(SharedData.path("gsm8k/train.jsonl"));
        assertThat(gsm.size()).isEqualTo(7_473);
        assertThat(gsm.examples().get(0).answer()).isEqualTo("72");
        assertThat(gsm.examples().get(0).target()).endsWith("#### 72");
        assertThat(gsm.isClassification()).isFalse();
    }

    @Test
    void readsGenericJsonl(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path f = tmp.resolve("reviews.jsonl");
        java.nio.file.Files.writeString(f, "{\"text\": \"great\", \"label\": \"pos\"}\n\n{\"text\": \"awful\", \"label\": \"neg\"}\n");
        Dataset d = DataSets.read(f);
        assertThat(d.labelNames()).containsExactly("pos", "neg");
        assertThat(d.labels()).containsExactly(0, 1);
    }

    @Test
    void stratifiedSplitKeepsClassSharesAndIsSeeded() {
        Dataset sst = DataSets.read(SharedData.sst2());
        int[] labels = sst.labels();
        StratifiedSplit.Split s = StratifiedSplit.of(labels, 0.1, 42);
        assertThat(s.train().length + s.validation().length).isEqualTo(sst.size());
        assertThat(Arrays.stream(s.validation()).distinct().count()).isEqualTo(s.validation().length);
        double allPos = 37_569.0 / 67_349;
        double valPos = Arrays.stream(s.validation()).filter(i -> labels[i] == 1).count() / (double) s.validation().length;
        assertThat(valPos).isCloseTo(allPos, org.assertj.core.data.Offset.offset(0.001));
        assertThat(StratifiedSplit.of(labels, 0.1, 42).validation()).containsExactly(s.validation());
        assertThat(StratifiedSplit.of(labels, 0.1, 43).validation()).isNotEqualTo(s.validation());
    }
}
