package io.splitfed.model.lora;

import java.util.EnumSet;
import java.util.Set;

/**
 * A LoRA adapter's hyper-parameters: {@code W x + (alpha / rank) B A dropout(x)}, B starting at
 * zero so training starts from the base model.
 */
public record LoraConfig(int rank, double alpha, double dropout, Set<LoraTarget> targets) {

    public LoraConfig {
        if (rank <= 0) {
            throw new IllegalArgumentException("LoRA rank must be positive, got " + rank);
        }
        if (alpha <= 0) {
            throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
        }
        if (dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        }
        targets = Set.copyOf(EnumSet.copyOf(targets));
    }

    public double scale() {
        return alpha / rank;
    }

    public LoraConfig withRank(int newRank) {
        return new LoraConfig(newRank, alpha, dropout, targets);
    }
}
