package io.splitfed.model.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import io.splitfed.model.config.ModelFamily;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.io.BuiltinModels;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.tensor.Autograd;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorTransfer;
import io.splitfed.model.tokenizer.SequenceEncoder;
import io.splitfed.model.tokenizer.Tokenizers;
import io.splitfed.model.data.Example;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The independent check: ONNX Runtime runs the very graph splitfed loads its BERT weights from, on
 * the same padded batch of token ids (a text pair among them), and the two last_hidden_states agree.
 */
class BertOnnxReferenceTest {

    @Test
    void lastHiddenStateMatchesOnnxRuntimeOnAPaddedBatch() throws Exception {
        Path builtin = Path.of(BuiltinModels.MINILM);
        LoadedWeights weights = CheckpointLoader.load(builtin);
        assertThat(weights.config().family()).isEqualTo(ModelFamily.BERT);
        assertThat(weights.config().numLayers()).isEqualTo(6);
        assertThat(weights.config().hiddenSize()).isEqualTo(384);
        assertThat(weights.config().intermediateSize()).isEqualTo(1536);
        assertThat(weights.config().vocabSize()).isEqualTo(30522);

        SequenceEncoder encoder = new SequenceEncoder(Tokenizers.load(null, builtin, weights.config()), 64, "\n");
        List<SequenceEncoder.Encoded> rows = List.of(
                encoder.encode(0, Example.single("a gripping, beautifully acted film that never lets go", 1)),
                encoder.encode(1, Example.single("dull", 0)),
                encoder.encode(2, Example.pair("The cat sat on the mat.", "A cat was sitting on a mat.", 1)));
        TokenBatch batch = encoder.batch(rows);
        assertThat(batch.lengths()[1]).isLessThan(batch.seqLen()); // the batch really is padded
        assertThat(batch.tokenTypes()).isNotNull().contains(1);     // and the pair has token types

        float[] ours = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(weights);
                    ForwardPass pass = ForwardPass.create(TensorExecutor.shared().rootManager(), batch)) {
                return Autograd.noGrad(() -> ModelSegment.whole(model, null)
                        .hidden(pass, TensorTransfer.longs(pass.manager(), batch.ids(), batch.batch(), batch.seqLen()))
                        .toFloatArray());
            }
        });

        float[] reference = onnxRuntime(batch);
        assertThat(ours).hasSameSizeAs(reference);
        int d = weights.config().hiddenSize();
        double worst = 0;
        for (int b = 0; b < batch.batch(); b++) {
            for (int p = 0; p < batch.lengths()[b]; p++) {
                for (int i = 0; i < d; i++) {
                    int at = (b * batch.seqLen() + p) * d + i;
                    worst = Math.max(worst, Math.abs(ours[at] - reference[at]));
                }
            }
        }
        assertThat(worst).as("largest difference to ONNX Runtime over real tokens").isLessThanOrEqualTo(1e-4);
    }

    private static float[] onnxRuntime(TokenBatch batch) throws Exception {
        byte[] model;
        try (InputStream in = BertOnnxReferenceTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
            model = in.readAllBytes();
        }
        long[] shape = {batch.batch(), batch.seqLen()};
        long[] ids = new long[batch.batch() * batch.seqLen()];
        long[] mask = new long[ids.length];
        long[] types = new long[ids.length];
        for (int b = 0; b < batch.batch(); b++) {
            for (int p = 0; p < batch.seqLen(); p++) {
                int at = b * batch.seqLen() + p;
                ids[at] = batch.ids()[at];
                mask[at] = p < batch.lengths()[b] ? 1 : 0;
                types[at] = batch.tokenTypes() == null ? 0 : batch.tokenTypes()[at];
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions());
                OnnxTensor tIds = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
                OnnxTensor tMask = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                OnnxTensor tTypes = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
                OrtSession.Result result = session.run(Map.of("input_ids", tIds, "attention_mask", tMask, "token_type_ids", tTypes))) {
            OnnxTensor out = (OnnxTensor) result.get("last_hidden_state").orElseThrow();
            FloatBuffer fb = out.getFloatBuffer();
            float[] values = new float[fb.remaining()];
            fb.get(values);
            return values;
        }
    }
}
