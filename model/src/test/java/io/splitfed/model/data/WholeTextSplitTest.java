package io.splitfed.model.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Validation that looks like GLUE's dev set: whole sentences, none of whose phrases were trained on. */
class WholeTextSplitTest {

    @Test
    void sst2ValidationHoldsWholeSentencesWhosePhrasesAreNotTrainedOn() {
        Dataset sst = GlueTsvReader.read(SharedData.sst2());
        WholeTextSplit.Result split = WholeTextSplit.of(sst.examples(), sst.labels(), 0.12, 42);
        assertThat(split.phrases()).isTrue();
        // SST-2's binary train sentences: about 6,900 of 67,349 rows (the rest are their phrases)
        assertThat(split.wholeTexts()).isBetween(6_000, 9_000);
        assertThat(split.validation().length).isCloseTo((int) Math.round(0.12 * split.wholeTexts()), org.assertj.core.data.Offset.offset(3));

        List<String> train = Arrays.stream(split.train()).mapToObj(i -> " " + sst.examples().get(i).text().strip() + " ").toList();
        Set<Integer> trainSet = new HashSet<>();
        Arrays.stream(split.train()).forEach(trainSet::add);
        int[] sample = Arrays.copyOf(split.validation(), 60);
        for (int v : sample) {
            String sentence = " " + sst.examples().get(v).text().strip() + " ";
            assertThat(trainSet).doesNotContain(v);
            // a whole sentence: no training row contains it, and it contains no training row
            for (String t : train) {
                assertThat(t.contains(sentence)).as("a training row contains held-out %s", sentence).isFalse();
                assertThat(sentence.contains(t)).as("held-out %s contains training row %s", sentence, t).isFalse();
            }
        }
        // long, as dev sentences are: GLUE's SST-2 dev averages about 19 words; phrases about 9
        double words = Arrays.stream(split.validation()).mapToDouble(i -> sst.examples().get(i).text().strip().split("\\s+").length).average().orElseThrow();
        assertThat(words).isGreaterThan(15);
        assertThat(split.dropped()).isGreaterThan(split.validation().length); // each sentence took its phrases with it
        assertThat(split.train().length + split.validation().length + split.dropped()).isEqualTo(sst.size());
    }

    @Test
    void dataWithoutPhrasesGetsThePlainStratifiedSplit() {
        Dataset mrpc = GlueTsvReader.read(SharedData.path("mrpc/train.tsv"));
        WholeTextSplit.Result split = WholeTextSplit.of(mrpc.examples(), mrpc.labels(), 0.1, 7);
        StratifiedSplit.Split plain = StratifiedSplit.of(mrpc.labels(), 0.1, 7);
        assertThat(split.phrases()).isFalse();
        assertThat(split.validation()).containsExactly(plain.validation());
        assertThat(split.train()).containsExactly(plain.train());
    }
}
