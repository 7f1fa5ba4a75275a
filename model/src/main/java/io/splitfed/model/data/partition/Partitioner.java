package io.splitfed.model.data.partition;

import java.util.Locale;

/**
 * Deals a data set's examples out to devices. Every example goes to exactly one device; the same
 * labels and seed always give the same partition.
 */
public interface Partitioner {

    /** Indices into the data set, one array per device. */
    int[][] partition(int[] labels, int devices, long seed);

    String describe();

    /**
     * Parses {@code iid}, {@code dirichlet:0.5}, {@code classes:1} (c classes per device; 1 is
     * the extremely imbalanced case), or {@code quantity:0.5} (Dirichlet-sized IID shards).
     */
    static Partitioner parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        String[] parts = s.split("[:=]", 2);
        try {
            return switch (parts[0]) {
                case "iid" -> new IidPartitioner();
                case "dirichlet", "dir" -> new DirichletPartitioner(parts.length > 1 ? Double.parseDouble(parts[1]) : 0.5);
                case "classes", "label", "labels", "pathological" -> new ClassesPerDevicePartitioner(parts.length > 1 ? Integer.parseInt(parts[1]) : 1);
                case "quantity", "size" -> new QuantitySkewPartitioner(parts.length > 1 ? Double.parseDouble(parts[1]) : 0.5);
                default -> throw new IllegalArgumentException(
                        "unknown partition '" + spec + "'; expected iid, dirichlet:ALPHA, classes:C or quantity:ALPHA");
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("partition '" + spec + "' has a bad number after ':'");
        }
    }
}
