package io.splitfed.model.io;

import io.splitfed.model.tensor.HostTensor;

/**
 * Converts query/key projection rows between rotary layouts. Meta and llama2.c rotate interleaved
 * pairs (2i, 2i+1); Hugging Face rotates halves (i, i + d/2) and ships permuted weights, which is
 * what splitfed runs.
 */
final class RotaryLayout {

    private RotaryLayout() {}

    /** Rows (h, 2i + e) move to (h, e * d/2 + i), per head of width d. */
    static HostTensor interleavedToHalves(HostTensor weight, int heads) {
        int rows = weight.shape()[0];
        int cols = weight.shape()[1];
        int hs = rows / heads;
        int half = hs / 2;
        float[] src = weight.data();
        float[] dst = new float[src.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int e = 0; e < 2; e++) {
                    int from = h * hs + 2 * i + e;
                    int to = h * hs + e * half + i;
                    System.arraycopy(src, from * cols, dst, to * cols, cols);
                }
            }
        }
        return new HostTensor(weight.shape().clone(), dst);
    }
}
