package io.splitfed.model.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.ClassificationHead;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.nn.SplitPoint;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.testing.RandomGpt2;
import io.splitfed.model.testing.TestModels;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.LrSchedule;
import io.splitfed.model.train.SegmentLearner;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code splitfed.engine.device}: a server worker's step goes through the placement code, and every
 * tensor it leaves behind (base weights, adapter, optimizer moments) is on the configured device.
 */
class PlacementTest {

    @TempDir
    Path tmp;

    @Test
    void everyTensorOfAServerWorkerIsOnTheConfiguredDevice() throws Exception {
        TensorExecutor.shared().place("cpu");
        assertThat(TensorExecutor.shared().device()).isEqualTo(Device.cpu());
        Path dir = RandomGpt2.write(tmp.resolve("gpt2"), 300, 64, 2, 4, 64, 4);
        var weights = CheckpointLoader.load(dir);
        List<Device> devices = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(weights)) {
                Set<LoraTarget> targets = LoraTarget.parse("all");
                ClassificationHead head = new ClassificationHead(2);
                LoraAdapter whole = LoraAdapter.init(new LoraConfig(4, 8, 0.0, targets), model.loraModules(0, 2, targets),
                        head.trainableTensors(model.config()), 1, false);
                SplitPoint split = new SplitPoint(1);
                try (SegmentLearner server = SegmentLearner.create(ModelSegment.serverPart(model, 1, head), split.serverSide(whole).copy(),
                        new AdamW(AdamW.Settings.defaults(), LrSchedule.constant(1e-3)), SegmentLearner.Backward.FUSED, 1)) {
                    TokenBatch batch = TestModels.classificationBatch(300, new int[] {12, 7, 9, 3}, new int[] {0, 1, 0, 1}, 0);
                    TensorPayload acts = SegmentLearner.frozenForward(ModelSegment.devicePart(model, 1), batch, TensorPayload.Encoding.F32);
                    server.trainStep(batch, acts, null, TensorPayload.Encoding.F32);
                    return TensorExecutor.shared().rootManager().getManagedArrays().stream().map(NDArray::getDevice).distinct().toList();
                }
            }
        });
        assertThat(devices).as("the devices of every live tensor").containsExactly(Device.cpu());
    }

    @Test
    void aBadDeviceOrACudaDeviceThisHostLacksIsRefusedWithTheSetting() {
        assertThatThrownBy(() -> TensorExecutor.shared().place("gpu0")).hasMessageContaining("splitfed.engine.device = 'gpu0'")
                .hasMessageContaining("expected auto, cpu, cuda or cuda:N");
        TensorExecutor.shared().place("cpu");
        TensorExecutor.shared().device();
        assertThatThrownBy(() -> TensorExecutor.shared().place("cuda:3")).hasMessageContaining("splitfed.engine.device = cuda:3");
    }
}
