package io.splitfed.actors.device;

import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.TrainingMode;
import io.splitfed.model.head.TaskHead;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.nn.UShapedSplit;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tokenizer.SequenceEncoder;
import io.splitfed.model.train.LrSchedule;

import java.util.List;
import java.util.function.Function;

/**
 * What a device is made of.
 *
 * @param initialAdapter the device's share of the global adapter (SFL: its blocks; FedLoRA: the
 *     whole model's, head included); null in SplitFrozen, where the device trains nothing
 *     (except in the U-shape)
 * @param schedule the learning-rate schedule of the device's optimizer (when it has one)
 * @param batcher builds a padded micro-batch from the device's encoded examples
 * @param uShape the U-shaped split, whose tail and head the device trains ({@code
 *     initialAdapter} is theirs); null in the standard shape
 */
public record DeviceSettings(
        int device,
        JobSpec spec,
        TransformerModel model,
        TaskHead head,
        int splitPoint,
        LoraAdapter initialAdapter,
        LrSchedule schedule,
        Function<List<SequenceEncoder.Encoded>, TokenBatch> batcher,
        UShapedSplit uShape) {

    public TrainingMode mode() {
        return spec.mode();
    }
}
