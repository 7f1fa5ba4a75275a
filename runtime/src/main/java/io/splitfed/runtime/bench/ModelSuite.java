package io.splitfed.runtime.bench;

import io.splitfed.model.tensor.TensorExecutor;

import java.util.ArrayList;
import java.util.List;

/** How close a GPT-2-small stack and the main job's MiniLM stack get to the machine's matmul speed. */
public final class ModelSuite implements BenchSuite {

    @Override
    public String name() {
        return "model";
    }

    @Override
    public String description() {
        return "GPT-2-small-shaped stack (12 x 768, LoRA r8) at batch 8 x 128, and all-MiniLM-L6-v2's (BERT 6 x 384, LoRA r8) at 32 x 64, "
                + "vs a bare 512x768x768 matmul";
    }

    @Override
    public List<Comparison> run(boolean quick) {
        int reps = quick ? 2 : 5;
        return TensorExecutor.shared().call(() -> {
            double matmul;
            try (ModelThroughput.Matmul mm = new ModelThroughput.Matmul()) {
                matmul = ModelThroughput.matmulFlops() / mm.bestSeconds(quick ? 10 : 30) / 1e9;
            }
            List<Comparison> out = new ArrayList<>();
            try (ModelThroughput m = ModelThroughput.gpt2(12, 768, 12)) {
                measure(m, "", reps, matmul, out);
            }
            try (ModelThroughput m = ModelThroughput.minilm()) {
                measure(m, "MiniLM 32x64 ", reps, matmul, out);
            }
            return out;
        });
    }

    private void measure(ModelThroughput m, String label, int reps, double matmul, List<Comparison> out) {
        m.forward();
        double fwd = best(reps, m::forward);
        m.forwardBackward();
        double fb = best(reps, m::forwardBackward);
        out.add(new Comparison(name(), label + "forward tokens/s", m.tokens() / fwd, "tokens/s", "-", 0, "", true));
        out.add(new Comparison(name(), label + "forward GFLOP/s", m.forwardFlops() / fwd / 1e9, "GFLOP/s", "bare matmul GFLOP/s", matmul, "GFLOP/s", true));
        out.add(new Comparison(name(), label + "forward+backward tokens/s", m.tokens() / fb, "tokens/s", "-", 0, "", true));
        out.add(new Comparison(name(), label + "forward+backward GFLOP/s", m.forwardBackwardFlops() / fb / 1e9, "GFLOP/s", "bare matmul GFLOP/s", matmul,
                "GFLOP/s", true));
    }

    private static double best(int reps, Runnable work) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            work.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }
}
