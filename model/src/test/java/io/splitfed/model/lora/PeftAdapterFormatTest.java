package io.splitfed.model.lora;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.ClassificationHead;
import io.splitfed.model.io.BuiltinModels;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.io.HfCheckpoint;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.io.SafetensorsFile;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.testing.RandomGpt2;
import io.splitfed.model.testing.TestModels;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.LrSchedule;
import io.splitfed.model.train.SegmentLearner;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * A saved adapter reloads with PEFT's names and gives identical outputs (GPT-2 and BERT), and a
 * merged adapter gives the same logits without one.
 */
class PeftAdapterFormatTest {

    @TempDir
    Path tmp;

    @Test
    void savedAdapterReloadsWithPeftNamesAndGivesIdenticalOutputs() throws Exception {
        Path modelDir = RandomGpt2.write(tmp.resolve("gpt2"), 211, 64, 3, 4, 64, 3);
        LoadedWeights weights = CheckpointLoader.load(modelDir);
        Set<LoraTarget> targets = LoraTarget.parse("q,v,o,mlp");
        ClassificationHead head = new ClassificationHead(2);
        TokenBatch batch = TestModels.classificationBatch(211, new int[] {6, 9, 3}, new int[] {1, 0, 1}, 2);
        Path adapterDir = tmp.resolve("adapter");

        float[][] logits = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(weights)) {
                LoraAdapter adapter = TestModels.perturbed(LoraAdapter.init(new LoraConfig(4, 16, 0.05, targets),
                        model.loraModules(0, 3, targets), head.trainableTensors(model.config()), 1, false), 0.1, 4);
                SegmentLearner trained = learner(model, head, adapter);
                for (int i = 0; i < 3; i++) {
                    trained.trainStep(batch, null, null, null);
                }
                PeftAdapterFormat.save(adapterDir, trained.adapter(), new PeftAdapterFormat.Metadata("gpt2-random", model.config().family(), head.peftTaskType()));
                LoraAdapter reloaded = PeftAdapterFormat.load(adapterDir);
                assertThat(reloaded.sha256()).isEqualTo(trained.adapter().sha256());
                float[] before = trained.evaluate(batch, null).logits();
                float[] after = learner(model, head, reloaded).evaluate(batch, null).logits();
                return new float[][] {before, after};
            }
        });
        assertThat(logits[1]).containsExactly(logits[0]);

        SafetensorsFile st = SafetensorsFile.open(adapterDir.resolve("adapter_model.safetensors"));
        assertThat(st.names()).contains(
                "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
                "base_model.model.transformer.h.2.mlp.c_proj.lora_A.weight",
                "base_model.model.score.weight");
        assertThat(st.entries().get("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight").shape()).containsExactly(4, 64);
        assertThat(st.entries().get("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight").shape()).containsExactly(192, 4);
        assertThat(st.metadata()).containsEntry("format", "pt");

        JsonNode config = new ObjectMapper().readTree(adapterDir.resolve("adapter_config.json").toFile());
        assertThat(config.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(config.get("task_type").asText()).isEqualTo("SEQ_CLS");
        assertThat(config.get("r").asInt()).isEqualTo(4);
        assertThat(config.get("lora_alpha").asDouble()).isEqualTo(16.0);
        assertThat(config.get("lora_dropout").asDouble()).isEqualTo(0.05);
        assertThat(config.get("fan_in_fan_out").asBoolean()).isTrue();
        assertThat(config.get("bias").asText()).isEqualTo("none");
        assertThat(config.get("modules_to_save").get(0).asText()).isEqualTo("score");
        assertThat(config.get("target_modules").toString()).contains("transformer.h.1.attn.c_attn", "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_fc");
    }

    @Test
    void bertAdapterRoundTripsUnderBertForSequenceClassificationNames() throws Exception {
        LoadedWeights weights = CheckpointLoader.load(Path.of(BuiltinModels.MINILM));
        Set<LoraTarget> targets = LoraTarget.parse("all");
        ClassificationHead head = new ClassificationHead(3);
        TokenBatch batch = TestModels.classificationBatch(weights.config().vocabSize(), new int[] {6, 9, 3}, new int[] {1, 0, 2}, 2);
        Path adapterDir = tmp.resolve("bert-adapter");
        float[][] logits = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(weights)) {
                LoraAdapter adapter = TestModels.perturbed(LoraAdapter.init(new LoraConfig(4, 8, 0.0, targets),
                        model.loraModules(0, model.numLayers(), targets), head.trainableTensors(model.config()), 1, false), 0.05, 4);
                SegmentLearner trained = learner(model, head, adapter);
                trained.trainStep(batch, null, null, null);
                PeftAdapterFormat.save(adapterDir, trained.adapter(), new PeftAdapterFormat.Metadata(BuiltinModels.MINILM, model.config().family(),
                        head.peftTaskType(), java.util.Map.of("max_length", "64")));
                LoraAdapter reloaded = PeftAdapterFormat.load(adapterDir);
                assertThat(reloaded.sha256()).isEqualTo(trained.adapter().sha256());
                return new float[][] {trained.evaluate(batch, null).logits(), learner(model, head, reloaded).evaluate(batch, null).logits()};
            }
        });
        assertThat(logits[1]).containsExactly(logits[0]);

        SafetensorsFile st = SafetensorsFile.open(adapterDir.resolve("adapter_model.safetensors"));
        assertThat(st.names()).contains(
                "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight",
                "base_model.model.bert.encoder.layer.0.attention.self.key.lora_B.weight",
                "base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight",
                "base_model.model.bert.encoder.layer.5.attention.output.dense.lora_A.weight",
                "base_model.model.bert.encoder.layer.5.intermediate.dense.lora_B.weight",
                "base_model.model.bert.encoder.layer.5.output.dense.lora_A.weight",
                "base_model.model.classifier.weight",
                "base_model.model.classifier.bias");
        assertThat(st.entries().get("base_model.model.bert.encoder.layer.5.intermediate.dense.lora_B.weight").shape()).containsExactly(1536, 4);
        assertThat(st.entries().get("base_model.model.classifier.weight").shape()).containsExactly(3, 384);
        assertThat(PeftAdapterFormat.jobMetadata(adapterDir)).containsEntry("max_length", "64");
        JsonNode config = new ObjectMapper().readTree(adapterDir.resolve("adapter_config.json").toFile());
        assertThat(config.get("fan_in_fan_out").asBoolean()).isFalse();
        assertThat(config.get("modules_to_save").toString()).isEqualTo("[\"classifier\"]");
        assertThat(config.get("target_modules").toString()).contains("bert.encoder.layer.1.attention.self.query", "bert.encoder.layer.1.output.dense");
        assertThat(PeftAdapterFormat.baseModel(adapterDir)).isEqualTo(BuiltinModels.MINILM);
    }

    @Test
    void mergedAdapterGivesTheSameLogitsWithoutAnAdapter() throws Exception {
        Path modelDir = RandomGpt2.write(tmp.resolve("gpt2m"), 157, 64, 2, 4, 32, 8);
        LoadedWeights weights = CheckpointLoader.load(modelDir);
        Set<LoraTarget> targets = LoraTarget.parse("all");
        ClassificationHead head = new ClassificationHead(2);
        TokenBatch batch = TestModels.classificationBatch(157, new int[] {5, 8}, new int[] {1, 0}, 6);
        Path mergedDir = tmp.resolve("merged");
        LoraAdapter[] adapter = new LoraAdapter[1];
        float[] adapted = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(weights)) {
                adapter[0] = TestModels.perturbed(LoraAdapter.init(new LoraConfig(8, 16, 0, targets),
                        model.loraModules(0, 2, targets), head.trainableTensors(model.config()), 2, false), 0.2, 5);
                Map<String, HostTensor> merged = LoraMerge.merge(model.hostWeights(), adapter[0]);
                merged.remove(ClassificationHead.SCORE);
                HfCheckpoint.write(mergedDir, model.config(), merged);
                return learner(model, head, adapter[0]).evaluate(batch, null).logits();
            }
        });
        LoadedWeights mergedWeights = CheckpointLoader.load(mergedDir);
        float[] merged = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(mergedWeights)) {
                LoraAdapter headOnly = adapter[0].select(k -> k.equals(ClassificationHead.SCORE));
                return learner(model, head, headOnly).evaluate(batch, null).logits();
            }
        });
        for (int i = 0; i < adapted.length; i++) {
            assertThat((double) merged[i]).isCloseTo(adapted[i], org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    private static SegmentLearner learner(TransformerModel model, ClassificationHead head, LoraAdapter adapter) {
        return SegmentLearner.create(ModelSegment.whole(model, head), adapter,
                new AdamW(AdamW.Settings.defaults(), LrSchedule.constant(1e-2)), SegmentLearner.Backward.FUSED, 3);
    }
}
