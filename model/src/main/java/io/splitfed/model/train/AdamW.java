package io.splitfed.model.train;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW with decoupled weight decay and bias correction, as {@code torch.optim.AdamW} computes
 * it, over an adapter on the heap. Adapters are small, so a step costs microseconds here and
 * leaves nothing on the engine; the next forward pass materialises a new adapter version.
 */
public final class AdamW {

    /** Hyper-parameters; {@code maxGradNorm <= 0} turns clipping off. */
    public record Settings(double beta1, double beta2, double eps, double weightDecay, double maxGradNorm) {

        public static Settings defaults() {
            return new Settings(0.9, 0.999, 1e-8, 0.0, 0.0);
        }
    }

    private final Settings settings;
    private final LrSchedule schedule;
    private long step;
    private final Map<String, HostTensor> m = new LinkedHashMap<>();
    private final Map<String, HostTensor> v = new LinkedHashMap<>();

    public AdamW(Settings settings, LrSchedule schedule) {
        this.settings = settings;
        this.schedule = schedule;
    }

    public AdamW(Settings settings, LrSchedule schedule, OptimizerState state) {
        this(settings, schedule);
        restore(state);
    }

    public Settings settings() {
        return settings;
    }

    public LrSchedule schedule() {
        return schedule;
    }

    public long steps() {
        return step;
    }

    /**
     * Applies one update to the trainable tensors of {@code params} that {@code grads} names.
     * Returns the learning rate used. Non-finite gradients are refused before anything changes.
     */
    public double step(LoraAdapter params, Map<String, HostTensor> grads) {
        for (Map.Entry<String, HostTensor> g : grads.entrySet()) {
            HostTensor p = params.get(g.getKey());
            if (p == null || !p.sameShape(g.getValue())) {
                throw new IllegalArgumentException("gradient " + g.getKey() + " does not match a parameter");
            }
            if (!g.getValue().allFinite()) {
                throw new IllegalArgumentException("gradient " + g.getKey() + " has NaN or Inf values; update refused");
            }
        }
        double clip = 1.0;
        if (settings.maxGradNorm() > 0) {
            double sq = 0;
            for (Map.Entry<String, HostTensor> g : grads.entrySet()) {
                if (params.isTrainable(g.getKey())) {
                    sq += g.getValue().squaredNorm();
                }
            }
            double norm = Math.sqrt(sq);
            if (norm > settings.maxGradNorm()) {
                clip = settings.maxGradNorm() / (norm + 1e-6);
            }
        }
        double lr = schedule.at(step);
        step++;
        double b1 = settings.beta1();
        double b2 = settings.beta2();
        double bc1 = 1 - Math.pow(b1, step);
        double bc2 = 1 - Math.pow(b2, step);
        double stepSize = lr / bc1;
        double bc2Sqrt = Math.sqrt(bc2);
        double decay = 1 - lr * settings.weightDecay();
        for (Map.Entry<String, HostTensor> e : grads.entrySet()) {
            String key = e.getKey();
            if (!params.isTrainable(key)) {
                continue;
            }
            float[] p = params.get(key).data();
            float[] g = e.getValue().data();
            float[] mk = m.computeIfAbsent(key, k -> HostTensor.zeros(params.get(k).shape())).data();
            float[] vk = v.computeIfAbsent(key, k -> HostTensor.zeros(params.get(k).shape())).data();
            for (int i = 0; i < p.length; i++) {
                double gi = g[i] * clip;
                mk[i] = (float) (b1 * mk[i] + (1 - b1) * gi);
                vk[i] = (float) (b2 * vk[i] + (1 - b2) * gi * gi);
                double denom = Math.sqrt(vk[i]) / bc2Sqrt + settings.eps();
                p[i] = (float) (p[i] * decay - stepSize * mk[i] / denom);
            }
        }
        return lr;
    }

    public OptimizerState state() {
        return new OptimizerState(step, new LinkedHashMap<>(m), new LinkedHashMap<>(v)).copy();
    }

    public void restore(OptimizerState state) {
        OptimizerState s = state.copy();
        step = s.step();
        m.clear();
        v.clear();
        m.putAll(s.firstMoments());
        v.putAll(s.secondMoments());
    }
}
