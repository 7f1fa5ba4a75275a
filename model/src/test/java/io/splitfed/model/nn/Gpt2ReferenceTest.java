package io.splitfed.model.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;

import io.splitfed.model.generate.TextGenerator;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.tensor.Autograd;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorTransfer;
import io.splitfed.model.testing.RandomGpt2;
import io.splitfed.model.testing.ReferenceGpt2;
import io.splitfed.model.testing.SharedData;
import io.splitfed.model.tokenizer.TiktokenGpt2Tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** GPT-2 checkpoints give the logits and greedy tokens of an independent plain-Java GPT-2. */
class Gpt2ReferenceTest {

    @TempDir
    Path tmp;

    @Test
    void tinyGpt2DecodesGreedilyLikeTheReference() throws Exception {
        int[] prompt = new TiktokenGpt2Tokenizer().encode("Hello, my dog is cute and");
        assertSameGreedy(SharedData.tinyGpt2(), prompt, 12);
    }

    @Test
    void randomGpt2InHfLayoutDecodesGreedilyLikeTheReference() throws Exception {
        Path dir = RandomGpt2.write(tmp.resolve("gpt2-random"), 503, 64, 3, 4, 64, 7);
        int[] prompt = {17, 4, 99, 250, 3, 77};
        assertSameGreedy(dir, prompt, 20);
        assertLogitsClose(dir, new int[] {5, 9, 13, 100, 200, 300, 400, 1, 2});
    }

    private void assertSameGreedy(Path dir, int[] prompt, int n) throws Exception {
        LoadedWeights weights = CheckpointLoader.load(dir);
        int[] ours = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(weights)) {
                return new TextGenerator(model, null).generate(prompt, n, -1);
            }
        });
        int[] reference = new ReferenceGpt2(dir).greedy(prompt, n);
        assertThat(ours).containsExactly(reference);
    }

    private void assertLogitsClose(Path dir, int[] ids) throws Exception {
        LoadedWeights weights = CheckpointLoader.load(dir);
        float[] ours = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(weights);
                    ForwardPass pass = ForwardPass.create(TensorExecutor.shared().rootManager(), 1, ids.length, new int[] {ids.length})) {
                return Autograd.noGrad(() -> {
                    NDArray h = ModelSegment.whole(model, null).hidden(pass, TensorTransfer.longs(pass.manager(), ids, 1, ids.length));
                    return model.lmLogits(pass, model.finalNorm(pass, h)).toFloatArray();
                });
            }
        });
        double[][] ref = new ReferenceGpt2(dir).logits(ids);
        int vocab = ref[0].length;
        double maxDiff = 0;
        for (int p = 0; p < ids.length; p++) {
            for (int v = 0; v < vocab; v++) {
                maxDiff = Math.max(maxDiff, Math.abs(ours[p * vocab + v] - ref[p][v]));
            }
        }
        assertThat(maxDiff).isLessThan(1e-4);
    }
}
