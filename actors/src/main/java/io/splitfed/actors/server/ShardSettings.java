package io.splitfed.actors.server;

import io.splitfed.actors.job.JobSpec;
import io.splitfed.model.head.TaskHead;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.nn.UShapedSplit;
import io.splitfed.model.train.LrSchedule;

/**
 * What a server shard is made of.
 *
 * @param initialAdapter the server side of the global adapter (blocks from the lowest split point, head)
 * @param sendsCutGradients SFL: devices train their own blocks, so the shard returns cut gradients
 * @param perDeviceReplicas SflLLM: one server adapter per device, averaged each round
 * @param schedule learning-rate schedule of the shard's (or each replica's) optimizer
 * @param uShape the U-shaped split whose middle blocks the shard trains, handing their output to the
 *     device and waiting for its gradient; null in the standard shape, where the shard holds the head
 */
public record ShardSettings(
        int shard,
        JobSpec spec,
        TransformerModel model,
        TaskHead head,
        LoraAdapter initialAdapter,
        boolean sendsCutGradients,
        boolean perDeviceReplicas,
        LrSchedule schedule,
        UShapedSplit uShape) {}
