package io.splitfed.actors.job;

import java.util.Locale;

/** The training designs splitfed runs. */
public enum TrainingMode {
    /** SplitFrozen: frozen device blocks (forward only, cacheable), LoRA on the server, pipelined. */
    SPLITFROZEN,
    /** SflLLM / SplitLoRA: LoRA on both sides, cut gradients back to devices, FedAvg of device adapters. */
    SFL,
    /** FedLoRA: the whole model with LoRA on every device, FedAvg of the adapters. */
    FEDLORA,
    /** Centralized LoRA: all data in one place, the upper bound. */
    CENTRALIZED;

    public static TrainingMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown mode '" + s + "'; expected splitfrozen, sfl, fedlora or centralized");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** True when devices run part of the model and a server the rest. */
    public boolean isSplit() {
        return this == SPLITFROZEN || this == SFL;
    }

    /** True when device-side adapters are trained and federated. */
    public boolean trainsOnDevice() {
        return this == SFL || this == FEDLORA || this == CENTRALIZED;
    }
}
