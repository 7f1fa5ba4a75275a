package io.splitfed.runtime.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.data.DataSets;
import io.splitfed.model.data.Dataset;
import io.splitfed.model.data.Example;
import io.splitfed.model.testing.SharedData;

import org.junit.jupiter.api.Test;

/** GSM8K's exact match reads the final number the way the data set writes it. */
class ExactMatchTest {

    @Test
    void everyReferenceWorkedAnswerMatchesItsOwnFinalAnswer() {
        Dataset gsm = DataSets.read(SharedData.root().resolve("gsm8k/train.jsonl"));
        int n = 0;
        for (Example e : gsm.examples().subList(0, 500)) {
            assertThat(ExactMatch.matches(e.target(), e.answer())).as(e.target()).isTrue();
            n++;
        }
        assertThat(n).isEqualTo(500);
    }

    @Test
    void aWrongOrMissingNumberDoesNotMatch() {
        assertThat(ExactMatch.matches("She pays 3 * 4 = 12 dollars.\n#### 12", "13")).isFalse();
        assertThat(ExactMatch.matches("Once upon a time there was a dog.", "7")).isFalse();
    }

    @Test
    void numbersAreComparedAsNumbers() {
        assertThat(ExactMatch.matches("#### 1,200", "1200")).isTrue();
        assertThat(ExactMatch.matches("#### 5.00", "5")).isTrue();
        assertThat(ExactMatch.matches("so the answer is 18", "18")).as("no marker: the last number").isTrue();
        assertThat(ExactMatch.matches("#### 18 and then 20", "18")).as("the marked number wins").isTrue();
    }
}
