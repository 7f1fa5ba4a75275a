package io.splitfed.runtime.experiment;

import java.util.Map;

/**
 * One run of an experiment's grid: its job settings (overrides of {@code splitfed.job}) and the
 * labels it is reported under (method, task, partition, seed...).
 */
public record Cell(String id, Map<String, Object> overrides, Map<String, String> labels) {

    public String label(String key) {
        return labels.getOrDefault(key, "");
    }
}
