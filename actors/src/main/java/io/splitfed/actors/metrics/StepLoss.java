package io.splitfed.actors.metrics;

/** The loss of one optimizer step: where it ran, on whose micro-batch. */
public record StepLoss(int round, int device, long seq, float loss, long micros) {}
