package io.splitfed.model.head;

import ai.djl.ndarray.NDArray;

/** A head's scalar mean loss and its logits ((batch, classes) or (batch, T, vocab)). */
public record HeadOutput(NDArray loss, NDArray logits) {}
