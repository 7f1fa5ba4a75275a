package io.splitfed.model.nn;

import io.splitfed.model.lora.LoraAdapter;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The block boundary {@code k} where a model is cut: the device runs the embeddings and blocks
 * {@code < k}, the server blocks {@code >= k}, the final norm and the head. Each device may have
 * its own.
 */
public record SplitPoint(int k) {

    private static final Pattern LAYER = Pattern.compile("\\.(?:h|layers|layer)\\.(\\d+)\\.");

    public SplitPoint {
        if (k < 0) {
            throw new IllegalArgumentException("split point must not be negative, got " + k);
        }
    }

    public void checkFits(int numLayers) {
        if (k > numLayers) {
            throw new IllegalArgumentException("split point " + k + " is past the model's " + numLayers + " blocks (expected 0.." + numLayers + ")");
        }
    }

    /** The block a parameter key belongs to, or -1 for keys outside the blocks (a head). */
    public static int layerOf(String key) {
        Matcher m = LAYER.matcher(key);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    public boolean onDevice(String key) {
        int layer = layerOf(key);
        return layer >= 0 && layer < k;
    }

    /** The device's share of an adapter that covers the whole model. */
    public LoraAdapter deviceSide(LoraAdapter whole) {
        return whole.select(this::onDevice);
    }

    /** The server's share of an adapter that covers the whole model. */
    public LoraAdapter serverSide(LoraAdapter whole) {
        return whole.select(key -> !onDevice(key));
    }
}
