package io.splitfed.model.tensor;

import java.util.SplittableRandom;

/**
 * Symmetric integer quantization of activations and gradients, as SFLAM puts on the wire: int8
 * or int4 levels with an fp32 scale per token or per channel of the last dimension. Rounding is to
 * nearest, or stochastic (unbiased) when a seed is given.
 */
public final class Quantizer {

    private Quantizer() {}

    public static TensorPayload encode(float[] values, int[] shape, TensorPayload.Encoding encoding, Long stochasticSeed) {
        if (!encoding.quantized()) {
            throw new IllegalArgumentException(encoding + " is not a quantized encoding");
        }
        int cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        int rows = cols == 0 ? 0 : values.length / cols;
        int levels = encoding.bits() == 8 ? 127 : 7;
        boolean perChannel = encoding.perChannel();
        float[] scales = new float[perChannel ? cols : rows];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                float a = Math.abs(values[base + c]);
                int s = perChannel ? c : r;
                if (a > scales[s] || Float.isNaN(a)) {
                    scales[s] = a;
                }
            }
        }
        for (int i = 0; i < scales.length; i++) {
            scales[i] = scales[i] == 0f ? 1f : scales[i] / levels;
        }
        SplittableRandom rng = stochasticSeed == null ? null : new SplittableRandom(stochasticSeed);
        int n = values.length;
        byte[] q = new byte[encoding.bits() == 8 ? n : (n + 1) / 2];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                int i = base + c;
                float scaled = values[i] / scales[perChannel ? c : r];
                int level = rng == null ? Math.round(scaled) : (int) Math.floor(scaled + rng.nextDouble());
                level = Math.max(-levels, Math.min(levels, level));
                if (encoding.bits() == 8) {
                    q[i] = (byte) level;
                } else {
                    int nibble = level & 0x0f;
                    q[i >> 1] |= (byte) ((i & 1) == 0 ? nibble : nibble << 4);
                }
            }
        }
        return new TensorPayload(encoding, shape.clone(), q, scales);
    }

    public static float[] decode(TensorPayload payload) {
        TensorPayload.Encoding encoding = payload.encoding();
        int[] shape = payload.shape();
        int n = Math.toIntExact(payload.numel());
        int cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        int rows = cols == 0 ? 0 : n / cols;
        float[] scales = payload.scales();
        int expectedScales = encoding.perChannel() ? cols : rows;
        if (scales.length != expectedScales) {
            throw new IllegalArgumentException(encoding + " payload of " + rows + " x " + cols + " needs " + expectedScales + " scales, got " + scales.length);
        }
        byte[] q = payload.bytes();
        float[] out = new float[n];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                int i = base + c;
                int level;
                if (encoding.bits() == 8) {
                    level = q[i];
                } else {
                    int nibble = (i & 1) == 0 ? q[i >> 1] & 0x0f : (q[i >> 1] >> 4) & 0x0f;
                    level = (nibble << 28) >> 28; // sign-extend 4 bits
                }
                out[i] = level * scales[encoding.perChannel() ? c : r];
            }
        }
        return out;
    }
}
