package io.splitfed.model.nn;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.ClassificationHead;
import io.splitfed.model.io.BuiltinModels;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.testing.RandomGpt2;
import io.splitfed.model.testing.SharedData;
import io.splitfed.model.testing.TestModels;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.LrSchedule;
import io.splitfed.model.train.SegmentLearner;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Cutting the model at any block changes nothing: same logits, same LoRA gradients, for GPT-2,
 * Llama and BERT (whose device part carries the token types of a pair).
 */
class SplitEquivalenceTest {

    @TempDir
    Path tmp;

    @Test
    void gpt2SplitAtEveryBlockMatchesTheWholeModel() throws Exception {
        Path dir = RandomGpt2.write(tmp.resolve("gpt2"), 301, 64, 3, 4, 64, 11);
        checkEveryCut(CheckpointLoader.load(dir), LoraTarget.parse("all"));
    }

    @Test
    void llamaSplitAtEveryBlockMatchesTheWholeModel() {
        checkEveryCut(CheckpointLoader.load(SharedData.stories260k()), LoraTarget.parse("q,k,v,o,mlp"));
    }

    @Test
    void bertSplitAtEveryLayerMatchesTheWholeModelOnATextPair() {
        LoadedWeights minilm = CheckpointLoader.load(Path.of(BuiltinModels.MINILM));
        TokenBatch plain = TestModels.classificationBatch(minilm.config().vocabSize(), new int[] {7, 4, 9}, new int[] {0, 2, 1}, 9);
        // the third row is a pair: its last four tokens are of type 1
        int[] types = new int[plain.batch() * plain.seqLen()];
        for (int p = 5; p < 9; p++) {
            types[2 * plain.seqLen() + p] = 1;
        }
        TokenBatch pair = new TokenBatch(plain.batch(), plain.seqLen(), plain.ids(), plain.lengths(), plain.labels(), null, null, plain.sampleIds(), types);
        checkEveryCut(minilm, LoraTarget.parse("all"), pair);
    }

    private void checkEveryCut(LoadedWeights weights, java.util.Set<LoraTarget> targets) {
        checkEveryCut(weights, targets, TestModels.classificationBatch(weights.config().vocabSize(), new int[] {7, 4, 9}, new int[] {0, 2, 1}, 9));
    }

    private void checkEveryCut(LoadedWeights weights, java.util.Set<LoraTarget> targets, TokenBatch batch) {
        TensorExecutor.shared().run(() -> {
            try (TransformerModel model = TransformerModel.create(weights)) {
                int layers = model.numLayers();
                ClassificationHead head = new ClassificationHead(3);
                LoraConfig cfg = new LoraConfig(4, 8, 0.0, targets);
                LoraAdapter whole = TestModels.perturbed(
                        LoraAdapter.init(cfg, model.loraModules(0, layers, targets), head.trainableTensors(model.config()), 5, false), 0.05, 3);

                SegmentLearner mono = learner(ModelSegment.whole(model, head), whole.copy(), SegmentLearner.Backward.FUSED);
                SegmentLearner.Gradients reference = mono.gradients(batch, null, null, TensorPayload.Encoding.F32);
                float[] referenceLogits = mono.evaluate(batch, null).logits();
                mono.close();

                for (int k = 0; k <= layers; k++) {
                    SplitPoint split = new SplitPoint(k);
                    SegmentLearner device = learner(ModelSegment.devicePart(model, k), split.deviceSide(whole).copy(), SegmentLearner.Backward.FUSED);
                    SegmentLearner server = learner(ModelSegment.serverPart(model, k, head), split.serverSide(whole).copy(), SegmentLearner.Backward.DECOMPOSED);

                    SegmentLearner.InFlight inFlight = device.forwardForCut(batch, TensorPayload.Encoding.F32);
                    float[] splitLogits = server.evaluate(batch, inFlight.activations()).logits();
                    assertThat(maxAbsDiff(splitLogits, referenceLogits)).as("logits at split %d", k).isLessThanOrEqualTo(1e-5);

                    AtomicReference<TensorPayload> cutGradient = new AtomicReference<>();
                    SegmentLearner.Gradients serverGrads = server.gradients(batch, inFlight.activations(), cutGradient::set, TensorPayload.Encoding.F32);
                    assertThat(cutGradient.get()).as("cut gradient at split %d", k).isNotNull();
                    Map<String, HostTensor> all = new LinkedHashMap<>(inFlight.gradients(cutGradient.get()));
                    all.putAll(serverGrads.values());

                    assertThat(serverGrads.loss()).isCloseTo(reference.loss(), org.assertj.core.data.Offset.offset(1e-5f));
                    assertThat(all.keySet()).as("gradient keys at split %d", k).isEqualTo(reference.values().keySet());
                    for (Map.Entry<String, HostTensor> e : reference.values().entrySet()) {
                        double scale = Math.max(1e-3, maxAbs(e.getValue().data()));
                        assertThat(maxAbsDiff(all.get(e.getKey()).data(), e.getValue().data()) / scale)
                                .as("gradient of %s at split %d", e.getKey(), k)
                                .isLessThan(1e-4);
                    }
                    device.close();
                    server.close();
                }
            }
        });
    }

    private static SegmentLearner learner(ModelSegment segment, LoraAdapter adapter, SegmentLearner.Backward backward) {
        return SegmentLearner.create(segment, adapter, new AdamW(AdamW.Settings.defaults(), LrSchedule.constant(1e-3)), backward, 1);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
