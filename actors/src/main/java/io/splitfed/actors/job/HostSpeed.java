package io.splitfed.actors.job;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.SegmentLearner;

import java.util.ArrayList;
import java.util.List;

/**
 * This host's speed on a job's own model, in FLOPs as the job counts them
 * ({@code ModelConfig.blockFlops}): the host profile of the cost model that turns a step's
 * FLOPs into its duration ({@code seconds = FLOPs / speed}). Two speeds, because splitfed counts a
 * training step as two forwards of FLOPs and the host does not run it in exactly that time:
 * {@code forward}, a frozen forward through the device's blocks (a SplitFrozen or SFL device's
 * forward); {@code train}, a LoRA training step (a server shard's step through its blocks and head,
 * an SFL device's backward, a FedLoRA device's local step).
 *
 * <p>{@link #measure} runs on the first micro-batches of the job's first devices (two each from up to
 * four), with a learner of its own (the job's adapters and optimizers are not touched): two untimed
 * passes of each kind to warm up, as a device's profile does, then timed passes until each kind has
 * run for {@code budgetSeconds / 2}.
 *
 * @param forwardFlopsPerSecond counted FLOPs of frozen forward passes over their seconds
 * @param trainFlopsPerSecond counted FLOPs of training steps over their seconds
 * @param probeSeconds what the measurement took, warm-up included
 */
public record HostSpeed(double forwardFlopsPerSecond, double trainFlopsPerSecond, double probeSeconds) {

    /** Seconds the cost model gives {@code forwardFlops} of forward passes and {@code trainFlops} of training steps. */
    public double seconds(double forwardFlops, double trainFlops) {
        return forwardFlops / forwardFlopsPerSecond + trainFlops / trainFlopsPerSecond;
    }

    /** Measures this host on {@code plan}'s model and data; blocks while the tensor thread runs the probe. */
    public static HostSpeed measure(JobPlan plan, double budgetSeconds) {
        PreparedJob job = plan.job();
        JobSpec spec = plan.spec();
        TransformerModel model = job.model();
        boolean split = spec.mode().isSplit();
        int layers = model.numLayers();
        int k = split ? spec.federation().splitPoint(0) : layers;
        List<TokenBatch> batches = new ArrayList<>();
        for (int d = 0; d < Math.min(4, job.devices()); d++) {
            job.deviceData().get(d).upcoming(2).forEach(rows -> batches.add(job.batcher().apply(rows)));
        }
        LoraAdapter init = (split ? plan.initialServerAdapter() : plan.initialDeviceAdapter()).copy();
        return TensorExecutor.shared().call(() -> {
            long start = System.nanoTime();
            ModelSegment devicePart = ModelSegment.devicePart(model, k);
            ModelSegment trained = split ? ModelSegment.serverPart(model, spec.federation().minSplitPoint(), job.head()) : ModelSegment.whole(model, job.head());
            try (SegmentLearner learner = SegmentLearner.create(trained, init, new AdamW(spec.training().optimizer(), JobPlan.schedule(spec, 1_000_000)),
                    spec.training().backward(), spec.seed() * 31 + 17)) {
                for (int i = 0; i < 2; i++) { // warm-up, untimed
                    TensorPayload warm = SegmentLearner.frozenForward(devicePart, batches.get(i % batches.size()), TensorPayload.Encoding.F32);
                    train(learner, split, k, batches.get(i % batches.size()), warm);
                }

                double forwardFlops = 0;
                double forwardSeconds = 0;
                for (int i = 0; forwardSeconds < budgetSeconds / 2 || i < batches.size(); i++) {
                    TokenBatch b = batches.get(i % batches.size());
                    long t0 = System.nanoTime();
                    SegmentLearner.frozenForward(devicePart, b, TensorPayload.Encoding.F32);
                    forwardSeconds += (System.nanoTime() - t0) / 1e9;
                    forwardFlops += model.config().blockFlops(b.batch(), b.seqLen()) * k;
                }
                double trainFlops = 0;
                double trainSeconds = 0;
                for (int i = 0; trainSeconds < budgetSeconds / 2 || i < batches.size(); i++) {
                    TokenBatch b = batches.get(i % batches.size());
                    TensorPayload acts = split ? SegmentLearner.frozenForward(devicePart, b, TensorPayload.Encoding.F32) : null;
                    long t0 = System.nanoTime();
                    train(learner, split, k, b, acts);
                    trainSeconds += (System.nanoTime() - t0) / 1e9;
                    trainFlops += 2 * model.config().blockFlops(b.batch(), b.seqLen()) * (layers - (split ? k : 0));
                }
                return new HostSpeed(forwardFlops / forwardSeconds, trainFlops / trainSeconds, (System.nanoTime() - start) / 1e9);
            }
        });
    }

    private static void train(SegmentLearner learner, boolean split, int k, TokenBatch batch, TensorPayload activations) {
        if (split) {
            learner.trainStep(k, batch, activations, null, TensorPayload.Encoding.F32);
        } else {
            learner.trainStep(batch, null, null, null);
        }
    }
}
