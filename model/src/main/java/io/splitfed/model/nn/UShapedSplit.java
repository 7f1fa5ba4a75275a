package io.splitfed.model.nn;

import io.splitfed.model.head.TaskHead;
import io.splitfed.model.lora.LoraAdapter;

/**
 * A U-shaped cut of a model: the device runs the embeddings and blocks {@code [0, cut)}, the server
 * the middle blocks {@code [cut, end)}, and the device again the last blocks {@code [end, L)}, the
 * head and the loss. The server never sees a label; it gets back only the gradient at its output.
 *
 * @param cut the first of the server's blocks
 * @param end the first of the device's tail blocks ({@code L}: the device keeps the head alone)
 */
public record UShapedSplit(int cut, int end) {

    public UShapedSplit {
        if (cut < 0 || end <= cut) {
            throw new IllegalArgumentException("a U-shaped split needs the server to keep a block: cut " + cut + ", tail from " + end);
        }
    }

    /** The split of {@code model} cut at {@code cut} whose device keeps its last {@code tailBlocks} blocks with the head. */
    public static UShapedSplit of(TransformerModel model, int cut, int tailBlocks) {
        int blocks = model.numLayers();
        if (tailBlocks < 0 || blocks - tailBlocks <= cut) {
            throw new IllegalArgumentException("a tail of " + tailBlocks + " blocks leaves the server none of blocks " + cut + ".." + (blocks - 1)
                    + " (expected 0 to " + (blocks - cut - 1) + " tail blocks)");
        }
        return new UShapedSplit(cut, blocks - tailBlocks);
    }

    private boolean inMiddle(String key) {
        int layer = SplitPoint.layerOf(key);
        return layer >= cut && layer < end;
    }

    /** The server's share of an adapter over the whole model: the middle blocks' LoRA. */
    public LoraAdapter middle(LoraAdapter whole) {
        return whole.select(this::inMiddle);
    }

    /** The device's trained share: the tail blocks' LoRA and the head's weights. */
    public LoraAdapter tail(LoraAdapter whole) {
        return whole.select(key -> SplitPoint.layerOf(key) < 0 || SplitPoint.layerOf(key) >= end);
    }

    /** The server's blocks: from cut activations to the activations it hands back. */
    public ModelSegment middlePart(TransformerModel model) {
        return new ModelSegment(model, false, cut, end, null);
    }

    /** The device's tail: the last blocks and the head. */
    public ModelSegment tailPart(TransformerModel model, TaskHead head) {
        return new ModelSegment(model, false, end, model.numLayers(), head);
    }
}
