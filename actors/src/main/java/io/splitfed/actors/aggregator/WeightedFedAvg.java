package io.splitfed.actors.aggregator;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * FedAvg weighted by samples: each tensor is the weighted mean of the updates' tensors. Note that
 * averaging A and B separately is not averaging B·A; {@link FfaLoraAverage} is exact.
 */
public final class WeightedFedAvg implements AggregationStrategy {

    @Override
    public String name() {
        return "fedavg";
    }

    @Override
    public LoraAdapter aggregate(List<WeightedUpdate> updates) {
        if (updates.isEmpty()) {
            throw new IllegalArgumentException("nothing to aggregate");
        }
        if (updates.size() == 1) {
            return updates.get(0).adapter().copy();
        }
        LoraAdapter first = updates.get(0).adapter();
        double total = updates.stream().mapToDouble(WeightedUpdate::weight).sum();
        if (!(total > 0)) {
            throw new IllegalArgumentException("aggregation weights sum to " + total);
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : first.tensors().entrySet()) {
            out.put(e.getKey(), mean(e.getKey(), updates, total));
        }
        return first.withTensors(out);
    }

    static HostTensor mean(String key, List<WeightedUpdate> updates, double total) {
        HostTensor shape = updates.get(0).adapter().get(key);
        double[] acc = new double[shape.size()];
        for (WeightedUpdate u : updates) {
            HostTensor t = u.adapter().get(key);
            if (t == null || !t.sameShape(shape)) {
                throw new IllegalArgumentException("update from " + u.source() + " has no tensor " + key + " of shape " + java.util.Arrays.toString(shape.shape()));
            }
            double w = u.weight() / total;
            float[] d = t.data();
            for (int i = 0; i < d.length; i++) {
                acc[i] += w * d[i];
            }
        }
        float[] f = new float[acc.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) acc[i];
        }
        return new HostTensor(shape.shape().clone(), f);
    }
}
