package io.splitfed.model.train;

import java.util.Locale;

/** Learning rate by step: constant, or linear warm-up followed by linear or cosine decay. */
public record LrSchedule(Kind kind, double peak, long warmupSteps, long totalSteps, double floorFraction) {

    /** The decay shape after warm-up. */
    public enum Kind { CONSTANT, LINEAR, COSINE }

    public LrSchedule {
        if (peak <= 0) {
            throw new IllegalArgumentException("learning rate must be positive, got " + peak);
        }
        if (warmupSteps < 0 || totalSteps < 0) {
            throw new IllegalArgumentException("warm-up and total steps must not be negative");
        }
    }

    public static LrSchedule constant(double lr) {
        return new LrSchedule(Kind.CONSTANT, lr, 0, 0, 1);
    }

    public static Kind parseKind(String s) {
        try {
            return Kind.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown learning-rate schedule '" + s + "'; expected constant, linear or cosine");
        }
    }

    /** The rate for 0-based {@code step}. */
    public double at(long step) {
        if (warmupSteps > 0 && step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        if (kind == Kind.CONSTANT || totalSteps <= warmupSteps) {
            return peak;
        }
        double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
        double factor = kind == Kind.LINEAR ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
        return peak * (floorFraction + (1 - floorFraction) * factor);
    }

    /** The same schedule over a different number of steps. */
    public LrSchedule withTotalSteps(long total) {
        return new LrSchedule(kind, peak, warmupSteps, total, floorFraction);
    }
}
