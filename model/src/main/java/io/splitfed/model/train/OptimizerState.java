package io.splitfed.model.train;

import io.splitfed.model.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW's moments and step count, on the heap so they checkpoint, cross the wire when a shard
 * moves, and restore exactly.
 */
public record OptimizerState(long step, Map<String, HostTensor> firstMoments, Map<String, HostTensor> secondMoments) {

    public static OptimizerState empty() {
        return new OptimizerState(0, new LinkedHashMap<>(), new LinkedHashMap<>());
    }

    public OptimizerState copy() {
        Map<String, HostTensor> m = new LinkedHashMap<>();
        Map<String, HostTensor> v = new LinkedHashMap<>();
        firstMoments.forEach((k, t) -> m.put(k, t.copy()));
        secondMoments.forEach((k, t) -> v.put(k, t.copy()));
        return new OptimizerState(step, m, v);
    }
}
