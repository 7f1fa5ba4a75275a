package io.splitfed.model.data;

import java.nio.file.Path;
import java.util.List;

/**
 * Examples read from one file.
 *
 * @param labelNames class names in label order; empty for generation tasks
 */
public record Dataset(String name, Path source, List<String> labelNames, List<Example> examples) {

    public Dataset {
        examples = List.copyOf(examples);
        labelNames = List.copyOf(labelNames);
    }

    public int size() {
        return examples.size();
    }

    public int numLabels() {
        return labelNames.size();
    }

    public boolean isClassification() {
        return !labelNames.isEmpty();
    }

    public int[] labels() {
        return examples.stream().mapToInt(Example::label).toArray();
    }

    public Dataset subset(int[] indices, String suffix) {
        List<Example> out = new java.util.ArrayList<>(indices.length);
        for (int i : indices) {
            out.add(examples.get(i));
        }
        return new Dataset(name + suffix, source, labelNames, out);
    }
}
