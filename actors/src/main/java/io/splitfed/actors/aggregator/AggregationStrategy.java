package io.splitfed.actors.aggregator;

import io.splitfed.model.lora.LoraAdapter;

import java.util.List;
import java.util.Locale;

/** How a round's adapters become one. */
public interface AggregationStrategy {

    String name();

    /** Combines at least one update; keys and shapes of all updates are the same. */
    LoraAdapter aggregate(List<WeightedUpdate> updates);

    static AggregationStrategy parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.startsWith("trimmed-mean")) {
            String share = n.contains(":") ? n.substring(n.indexOf(':') + 1) : "0.1";
            try {
                return new CoordinateMedian(Double.parseDouble(share));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("aggregation '" + name + "': expected trimmed-mean:SHARE, such as trimmed-mean:0.1");
            }
        }
        return switch (n) {
            case "fedavg", "weighted-fedavg" -> new WeightedFedAvg();
            case "ffa", "ffa-lora" -> new FfaLoraAverage();
            case "median", "coordinate-median" -> new CoordinateMedian(0);
            default -> throw new IllegalArgumentException("unknown aggregation '" + name + "'; expected fedavg, ffa, median or trimmed-mean:SHARE");
        };
    }
}
