package io.splitfed.runtime.privacy;

import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.nn.SplitPoint;
import io.splitfed.model.nn.UShapedSplit;
import io.splitfed.model.privacy.CutNoise;
import io.splitfed.model.privacy.GradientNoise;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.Evaluation;
import io.splitfed.model.train.SegmentLearner;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a U-shaped split does for labels, measured in one process on the job's model, cut and data:
 * the device runs its frozen blocks, the server its LoRA blocks, and the device the head and the
 * loss, sending back only the gradient at the server's output (defended by {@link GradientNoise}).
 * Every variant trains the same micro-batches from the same initial adapter, and is scored on the
 * job's held-out examples; the standard shape, where the server computes the loss, is the reference.
 * Not the actor runtime: a quick sweep of settings; {@link LabelAudit} measures the jobs themselves.
 */
public final class UShapeTrial {

    private UShapeTrial() {}

    /** One variant: the standard shape ({@code noise} null) or the U-shape under {@code noise}. */
    public record Outcome(String shape, GradientNoise noise, double accuracy, LabelAttack.Result attack, double flippedShare, int samples,
            double seconds) {}

    /** The micro-batches every variant trains on: {@code samples} of the job's training examples, dealt from its devices in turn. */
    public static List<TokenBatch> batches(PreparedJob job, int samples) {
        List<TokenBatch> out = new ArrayList<>();
        int n = 0;
        for (int i = 0; n < samples; i++) {
            TokenBatch b = job.batcher().apply(job.deviceData().get(i % job.devices()).next());
            out.add(b);
            n += b.batch();
        }
        return out;
    }

    /** The standard shape on {@code batches}: the server holds the head, computes the loss, and so reads every label. */
    public static Outcome standard(PreparedJob job, List<TokenBatch> batches) {
        return TensorExecutor.shared().call(() -> {
            long t0 = System.nanoTime();
            int cut = cut(job);
            LoraAdapter whole = job.wholeAdapter();
            try (SegmentLearner server = SegmentLearner.create(ModelSegment.serverPart(job.model(), cut, job.head()), new SplitPoint(cut).serverSide(whole).copy(),
                    optimizer(job, batches.size()), SegmentLearner.Backward.FUSED, job.spec().seed())) {
                int samples = 0;
                for (TokenBatch b : batches) {
                    server.trainStep(b, deviceForward(job, cut, b), null, null);
                    samples += b.batch();
                }
                double accuracy = evaluate(job, LoraAdapter.union(new SplitPoint(cut).deviceSide(whole), server.adapter()));
                return new Outcome("standard", null, accuracy, null, 0, samples, (System.nanoTime() - t0) / 1e9);
            }
        });
    }

    /**
     * The U-shape on {@code batches} under {@code noise}, with the server's label attacks on what it
     * got back. The device's tail is the head, after the last {@code tail} blocks (0: the head alone),
     * trained there with LoRA on the true labels.
     */
    public static Outcome uShaped(PreparedJob job, List<TokenBatch> batches, GradientNoise noise, int tail) {
        return TensorExecutor.shared().call(() -> {
            long t0 = System.nanoTime();
            int cut = cut(job);
            UShapedSplit split = UShapedSplit.of(job.model(), cut, tail);
            LoraAdapter whole = job.wholeAdapter();
            LoraAdapter middleStart = split.middle(whole).copy();
            LoraAdapter headStart = split.tail(whole).copy();
            // the device's secret: drawn from the job's seed here, so that a trial can be rerun (a device draws its own, and the
            // attacks below never read it)
            long salt = new java.util.SplittableRandom(job.spec().seed() ^ 0x1AB3L).nextLong();
            List<LabelAttack.Observed> seen = new ArrayList<>();
            long flipped = 0;
            int samples = 0;
            try (SegmentLearner middle = SegmentLearner.create(split.middlePart(job.model()), middleStart,
                    optimizer(job, batches.size()), SegmentLearner.Backward.FUSED, job.spec().seed());
                    SegmentLearner head = SegmentLearner.create(split.tailPart(job.model(), job.head()), headStart,
                            optimizer(job, batches.size()), SegmentLearner.Backward.FUSED, job.spec().seed())) {
                for (int step = 0; step < batches.size(); step++) {
                    TokenBatch b = batches.get(step);
                    try (SegmentLearner.InFlight server = middle.forward(b, deviceForward(job, cut, b), TensorPayload.Encoding.F32)) {
                        AtomicReference<TensorPayload> back = new AtomicReference<>();
                        head.trainStep(b, server.activations(), back::set, TensorPayload.Encoding.F32); // on the device
                        TensorPayload clean = back.get();
                        TensorPayload sent = noise.apply(clean, CutNoise.rowSeeds(salt, b.sampleIds()));
                        float[] c = WireCodec.toFloats(clean);
                        float[] g = WireCodec.toFloats(sent);
                        int hidden = sent.shape()[sent.shape().length - 1];
                        int perRow = g.length / b.batch();
                        for (int r = 0; r < b.batch(); r++) {
                            float[] sum = new float[hidden];
                            double agreement = 0;
                            for (int i = r * perRow; i < (r + 1) * perRow; i++) {
                                sum[(i - r * perRow) % hidden] += g[i];
                                agreement += (double) g[i] * c[i];
                            }
                            flipped += agreement < 0 ? 1 : 0;
                            seen.add(new LabelAttack.Observed(sum, b.labels()[r], step));
                        }
                        server.backward(sent);
                    }
                    samples += b.batch();
                }
                double accuracy = evaluate(job, LoraAdapter.union(new SplitPoint(cut).deviceSide(whole), LoraAdapter.union(middle.adapter(), head.adapter())));
                return new Outcome(tail == 0 ? "U-shaped" : "U-shaped, " + tail + "-block tail", noise, accuracy, LabelAttack.run(seen), (double) flipped / Math.max(1, samples), samples,
                        (System.nanoTime() - t0) / 1e9);
            }
        });
    }

    private static int cut(PreparedJob job) {
        return job.spec().federation().splitPoint(0);
    }

    private static TensorPayload deviceForward(PreparedJob job, int cut, TokenBatch b) {
        return SegmentLearner.frozenForward(ModelSegment.devicePart(job.model(), cut), b, TensorPayload.Encoding.F32);
    }

    private static AdamW optimizer(PreparedJob job, int steps) {
        JobSpec spec = job.spec();
        return new AdamW(spec.training().optimizer(), JobPlan.schedule(spec, steps));
    }

    private static double evaluate(PreparedJob job, LoraAdapter adapter) {
        return Evaluation.run(job.model(), job.head(), adapter, job.evalBatches()).accuracy();
    }
}
