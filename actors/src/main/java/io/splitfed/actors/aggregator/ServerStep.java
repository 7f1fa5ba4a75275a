package io.splitfed.actors.aggregator;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A server learning rate on aggregated updates (Reddi et al., "Adaptive Federated Optimization",
 * 2021): the new global adapter is {@code old + eta (mean - old)}. At {@code eta} 1 it is FedAvg; at
 * the number of devices that trained from {@code old} on their own shares, it adds their changes up,
 * so the adapter moves about as far as if they had stepped one after another.
 */
public final class ServerStep {

    private ServerStep() {}

    /** {@code old + eta (mean - old)}, tensor by tensor; {@code mean} itself when {@code eta} is 1. */
    public static LoraAdapter apply(LoraAdapter old, LoraAdapter mean, double eta) {
        if (eta == 1.0 || old == null) {
            return mean;
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : mean.tensors().entrySet()) {
            HostTensor before = old.get(e.getKey());
            if (before == null || !before.sameShape(e.getValue())) {
                throw new IllegalArgumentException("the global adapter has no tensor " + e.getKey() + " of the aggregate's shape");
            }
            float[] m = e.getValue().data();
            float[] b = before.data();
            float[] next = new float[m.length];
            for (int i = 0; i < m.length; i++) {
                next[i] = (float) (b[i] + eta * ((double) m[i] - b[i]));
            }
            out.put(e.getKey(), new HostTensor(e.getValue().shape().clone(), next));
        }
        return mean.withTensors(out);
    }
}
