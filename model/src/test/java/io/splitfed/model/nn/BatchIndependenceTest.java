package io.splitfed.model.nn;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.ClassificationHead;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.testing.SharedData;
import io.splitfed.model.testing.TestModels;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.LrSchedule;
import io.splitfed.model.train.SegmentLearner;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

/** A row's logits must not depend on the other rows of its batch, nor on padding. */
class BatchIndependenceTest {

    @Test
    void rowsOfABatchDoNotSeeEachOther() {
        var weights = CheckpointLoader.load(SharedData.stories260k());
        TensorExecutor.shared().run(() -> {
            try (TransformerModel model = TransformerModel.create(weights)) {
                var targets = LoraTarget.parse("all");
                ClassificationHead head = new ClassificationHead(2);
                LoraAdapter adapter = TestModels.perturbed(LoraAdapter.init(new LoraConfig(4, 8, 0, targets),
                        model.loraModules(0, model.numLayers(), targets), head.trainableTensors(model.config()), 3, false), 0.1, 2);
                SegmentLearner learner = SegmentLearner.create(ModelSegment.whole(model, head), adapter,
                        new AdamW(AdamW.Settings.defaults(), LrSchedule.constant(1e-3)), SegmentLearner.Backward.FUSED, 1);
                TokenBatch batch = TestModels.classificationBatch(512, new int[] {9, 4, 12, 7}, new int[] {0, 1, 0, 1}, 5);
                float[] together = learner.evaluate(batch, null).logits();
                for (int row = 0; row < batch.batch(); row++) {
                    int len = batch.lengths()[row];
                    int[] ids = Arrays.copyOfRange(batch.ids(), row * batch.seqLen(), row * batch.seqLen() + len);
                    TokenBatch alone = new TokenBatch(1, len, ids, new int[] {len}, new int[] {batch.labels()[row]}, null, null, new long[] {row});
                    float[] single = learner.evaluate(alone, null).logits();
                    for (int c = 0; c < 2; c++) {
                        assertThat((double) together[row * 2 + c]).as("row %d class %d", row, c).isCloseTo(single[c], org.assertj.core.data.Offset.offset(1e-5));
                    }
                }
            }
        });
    }
}
