package io.splitfed.model.nn;

import ai.djl.ndarray.NDArray;

import io.splitfed.model.head.TaskHead;

/**
 * A contiguous piece of a decoder: blocks [from, to), with the embeddings in front when
 * {@code embeds} and a head on top when there is one. Cutting at block {@code k} gives a device
 * part (embeddings, [0, k)) and a server part ([k, L), head); the whole model is both together.
 */
public record ModelSegment(TransformerModel model, boolean embeds, int from, int to, TaskHead head) {

    public ModelSegment {
        if (from < 0 || to > model.numLayers() || from > to) {
            throw new IllegalArgumentException("segment [" + from + ", " + to + ") is not within the model's " + model.numLayers() + " blocks");
        }
        if (embeds && from != 0) {
            throw new IllegalArgumentException("only a segment starting at block 0 can embed tokens");
        }
        if (head != null && to != model.numLayers()) {
            throw new IllegalArgumentException("only a segment ending at the last block can carry a head");
        }
    }

    public static ModelSegment devicePart(TransformerModel model, int splitPoint) {
        return new ModelSegment(model, true, 0, splitPoint, null);
    }

    public static ModelSegment serverPart(TransformerModel model, int splitPoint, TaskHead head) {
        return new ModelSegment(model, false, splitPoint, model.numLayers(), head);
    }

    public static ModelSegment whole(TransformerModel model, TaskHead head) {
        return new ModelSegment(model, true, 0, model.numLayers(), head);
    }

    /** Ids (batch, T) when the segment embeds, else hidden states (batch, T, d), through its blocks. */
    public NDArray hidden(ForwardPass pass, NDArray input) {
        NDArray x = embeds ? model.embed(pass, input) : input;
        for (int l = from; l < to; l++) {
            x = model.block(pass, l, x);
        }
        return x;
    }
}
