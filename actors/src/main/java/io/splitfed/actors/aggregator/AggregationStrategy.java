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
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "fedavg", "weighted-fedavg" -> new WeightedFedAvg();
            case "ffa", "ffa-lora" -> new FfaLoraAverage();
            default -> throw new IllegalArgumentException("unknown aggregation '" + name + "'; expected fedavg or ffa");
        };
    }
}
