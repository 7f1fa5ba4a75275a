package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;

/**
 * {@code splitfed generate}: greedy ids match the numpy reference, a text prompt is tokenized with BOS,
 * and a missing model is named.
 */
class GenerateCommandTest {

    @Test
    void greedyIdsMatchTheNumpyReference() throws Exception {
        CliRun r = CliRun.of("generate", "--model", SharedData.stories260k().toString(), "--tokenizer", SharedData.stories260kTokenizer().toString(),
                "--prompt-ids", "1", "--max-new-tokens", "40", "--greedy", "--print-ids");
        assertThat(r.exit).as(r.err).isZero();
        List<String> ref = Files.readAllLines(SharedData.path("models/stories260K/greedy_reference_numpy.txt"));
        String expected = "1," + ref.get(ref.size() - 1).replaceAll("[\\[\\]\\s]", "");
        String[] lines = r.out.strip().split("\n");
        assertThat(lines[lines.length - 1]).isEqualTo(expected);
        assertThat(r.out).startsWith("Once upon a time, there was a little girl named Lily");
    }

    @Test
    void aTextPromptIsTokenizedWithBos() {
        CliRun r = CliRun.of("generate", "--model", SharedData.stories260k().toString(), "--prompt", "Once upon a time",
                "--max-new-tokens", "5", "--greedy", "--print-ids");
        assertThat(r.exit).as(r.err).isZero();
        assertThat(r.out).startsWith("Once upon a time");
        String[] lines = r.out.strip().split("\n");
        assertThat(lines[lines.length - 1]).startsWith("1,");
    }

    @Test
    void aMissingModelIsNamed() {
        CliRun r = CliRun.of("generate", "--model", "/no/such/model.bin", "--prompt-ids", "1", "--greedy");
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err).contains("/no/such/model.bin").contains("no such file");
    }
}
