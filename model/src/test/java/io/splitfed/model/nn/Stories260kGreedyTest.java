package io.splitfed.model.nn;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.generate.TextGenerator;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.testing.SharedData;
import io.splitfed.model.tokenizer.Llama2cTokenizer;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;

/**
 * Greedy decoding of the pretrained stories260K matches the independent numpy reference token for
 * token.
 */
class Stories260kGreedyTest {

    @Test
    void greedyDecodingMatchesTheIndependentNumpyReference() throws Exception {
        List<String> ref = Files.readAllLines(SharedData.path("models/stories260K/greedy_reference_numpy.txt"));
        String idLine = ref.get(ref.size() - 1).replaceAll("[\\[\\]\\s]", "");
        int[] expected = Arrays.stream(idLine.split(",")).mapToInt(Integer::parseInt).toArray();
        assertThat(expected).hasSize(40);

        LoadedWeights weights = CheckpointLoader.load(SharedData.stories260k());
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedData.stories260kTokenizer());
        int[] out = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(weights)) {
                return new TextGenerator(model, null).generate(new int[] {1}, 40, -1);
            }
        });

        assertThat(Arrays.copyOfRange(out, 1, out.length)).containsExactly(expected);
        assertThat(tokenizer.decode(out)).startsWith("Once upon a time, there was a little girl named Lily");
    }
}
