package io.splitfed.actors.aggregator;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * FFA-LoRA: every device keeps the same frozen A, so averaging B averages B·A exactly. Frozen
 * tensors are taken from the first update after checking that all updates agree on them.
 */
public final class FfaLoraAverage implements AggregationStrategy {

    @Override
    public String name() {
        return "ffa";
    }

    @Override
    public LoraAdapter aggregate(List<WeightedUpdate> updates) {
        if (updates.isEmpty()) {
            throw new IllegalArgumentException("nothing to aggregate");
        }
        LoraAdapter first = updates.get(0).adapter();
        double total = updates.stream().mapToDouble(WeightedUpdate::weight).sum();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : first.tensors().entrySet()) {
            String key = e.getKey();
            if (first.frozen().contains(key)) {
                for (WeightedUpdate u : updates) {
                    if (!u.adapter().get(key).equals(e.getValue())) {
                        throw new IllegalArgumentException("FFA-LoRA needs one frozen A, but " + key + " from " + u.source() + " differs");
                    }
                }
                out.put(key, e.getValue().copy());
            } else {
                out.put(key, WeightedFedAvg.mean(key, updates, total));
            }
        }
        return first.withTensors(out);
    }
}
