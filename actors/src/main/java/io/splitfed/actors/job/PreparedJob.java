package io.splitfed.actors.job;

import io.splitfed.actors.device.DeviceData;
import io.splitfed.model.data.Dataset;
import io.splitfed.model.data.Example;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.TaskHead;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.tokenizer.SequenceEncoder;

import java.util.List;
import java.util.function.Function;

/**
 * A job with its data read, tokenized and dealt to devices, its model on the engine and its
 * adapters initialised: everything the actors need, nothing they must load themselves.
 *
 * @param wholeAdapter the initial adapter over every block and the head; devices and servers take
 *     their shares of it
 * @param batcher turns encoded rows into a micro-batch (classification or language modelling)
 * @param evalExamples the held-out examples {@code evalBatches} were made from, in their original
 *     order (for scores the batches cannot give, such as GSM8K's exact match)
 */
public record PreparedJob(
        JobSpec spec,
        TransformerModel model,
        TaskHead head,
        SequenceEncoder encoder,
        Dataset train,
        List<DeviceData> deviceData,
        List<TokenBatch> evalBatches,
        LoraAdapter wholeAdapter,
        Function<List<SequenceEncoder.Encoded>, TokenBatch> batcher,
        List<Example> evalExamples,
        String evalDescription) {

    public int devices() {
        return deviceData.size();
    }

    /** Micro-batches device {@code d} runs per round: its share of {@code epochs} passes over its shard. */
    public int stepsPerRound(int d) {
        var f = spec.federation();
        return (int) Math.max(1, Math.ceil(f.epochs() * deviceData.get(d).batchesPerEpoch() / f.rounds()));
    }
}
