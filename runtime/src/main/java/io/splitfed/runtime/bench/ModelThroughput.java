package io.splitfed.runtime.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.io.WeightNames;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.lora.LoraWeights;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.nn.ForwardPass;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.Autograd;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorExecutor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Forward and forward-plus-backward throughput of a block stack of a given shape (random weights,
 * LoRA rank 8 on every projection) at a given batch, against a bare 512x768x768 matmul in the same
 * process: a GPT-2-small stack (12 x 768) at 8 x 128, and the main job's all-MiniLM-L6-v2 stack
 * (BERT, 6 x 384) at 32 x 64. Tensor thread only.
 */
public final class ModelThroughput implements AutoCloseable {

    private final int batch;
    private final int seq;
    private final ModelConfig config;
    private final TransformerModel model;
    private final LoraWeights adapter;
    private final float[] input;
    private final int[] lengths;

    /** A GPT-2-shaped stack at batch 8 x 128. */
    public static ModelThroughput gpt2(int layers, int dim, int heads) {
        return new ModelThroughput(ModelConfig.gpt2(8, dim, layers, heads, 128), 8, 128);
    }

    /** all-MiniLM-L6-v2's shape (BERT, 6 x 384, 12 heads, MLP 1536) at batch 32 x 64. */
    public static ModelThroughput minilm() {
        return new ModelThroughput(ModelConfig.bert(8, 384, 6, 12, 1536, 512, 1e-12), 32, 64);
    }

    private ModelThroughput(ModelConfig config, int batch, int seq) {
        TensorExecutor.checkOnTensorThread();
        this.config = config;
        this.batch = batch;
        this.seq = seq;
        int layers = config.numLayers();
        SplittableRandom rng = new SplittableRandom(1);
        Map<String, HostTensor> weights = new LinkedHashMap<>();
        WeightNames.expectedShapes(config).forEach((name, shape) ->
                weights.put(name, random(rng, shape, (name.contains("ln_") || name.contains("LayerNorm")) && name.endsWith(".weight"))));
        if (config.family() == io.splitfed.model.config.ModelFamily.BERT) {
            weights.put("embeddings.token_type_embeddings.weight", random(rng, new int[] {2, config.hiddenSize()}, false));
        }
        model = TransformerModel.create(new LoadedWeights(Path.of("random-" + config.family()), config, weights));
        Set<LoraTarget> targets = LoraTarget.parse("all");
        LoraAdapter lora = LoraAdapter.init(new LoraConfig(8, 16, 0, targets), model.loraModules(0, layers, targets), Map.of(), 1, false);
        adapter = LoraWeights.materialize(TensorExecutor.shared().rootManager(), lora, LoraWeights.Mode.FUSED);
        input = new float[batch * seq * config.hiddenSize()];
        for (int i = 0; i < input.length; i++) {
            input[i] = (float) rng.nextGaussian();
        }
        lengths = new int[batch];
        java.util.Arrays.fill(lengths, seq);
    }

    private static HostTensor random(SplittableRandom rng, int[] shape, boolean aroundOne) {
        HostTensor t = HostTensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (aroundOne ? 1 + 0.02 * rng.nextGaussian() : 0.02 * rng.nextGaussian());
        }
        return t;
    }

    public int tokens() {
        return batch * seq;
    }

    /** Floating-point operations of one forward pass over the batch (2 per multiply-add). */
    public double forwardFlops() {
        return (double) tokens() * config.numLayers() * config.blockFlopsPerToken(seq);
    }

    /**
     * Backward of a frozen base with LoRA computes input gradients through every block (one more
     * forward's worth of matmuls); LoRA's own weight gradients are under 2% extra and not counted.
     */
    public double forwardBackwardFlops() {
        return 2 * forwardFlops();
    }

    /** One forward pass, no graph. */
    public void forward() {
        ModelSegment stack = new ModelSegment(model, false, 0, config.numLayers(), null);
        try (ForwardPass pass = ForwardPass.create(TensorExecutor.shared().rootManager(), batch, seq, lengths)) {
            Autograd.noGrad(() -> stack.hidden(pass, pass.manager().create(input, new Shape(batch, seq, config.hiddenSize()))).sum().getFloat());
        }
    }

    /** One forward pass recording a graph, then backward to the stack input and the LoRA weights. */
    public void forwardBackward() {
        ModelSegment stack = new ModelSegment(model, false, 0, config.numLayers(), null);
        try (ForwardPass pass = ForwardPass.create(TensorExecutor.shared().rootManager(), batch, seq, lengths)) {
            pass.withAdapter(adapter);
            NDArray x = pass.manager().create(input, new Shape(batch, seq, config.hiddenSize()));
            x.setRequiresGradient(true);
            NDArray loss = Autograd.recording(() -> stack.hidden(pass, x).mean());
            Autograd.backward(loss);
            try (NDArray g = Autograd.gradientOrNull(x)) {
                g.sum().getFloat();
            }
            adapter.leafGradients();
        }
    }

    /** A bare (512 x 768) x (768 x 768) fp32 matmul on the engine, the machine's reference speed. */
    public static final class Matmul implements AutoCloseable {
        private final NDManager manager = TensorExecutor.shared().rootManager().newSubManager();
        private final NDArray a = manager.randomNormal(new Shape(512, 768));
        private final NDArray b = manager.randomNormal(new Shape(768, 768));

        public void run() {
            try (NDArray c = a.matMul(b)) {
                c.getFloat(0, 0);
            }
        }

        /** Best seconds per call over {@code reps} calls, after a short warm-up. */
        public double bestSeconds(int reps) {
            for (int i = 0; i < 3; i++) {
                run();
            }
            double best = Double.MAX_VALUE;
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                run();
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return best;
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    public static double matmulFlops() {
        return 2.0 * 512 * 768 * 768;
    }

    @Override
    public void close() {
        adapter.release();
        model.close();
    }
}
