package io.splitfed.model.tensor;

import java.util.Arrays;

/**
 * A tensor as it crosses actors and the wire: shape, encoding and raw little-endian bytes, plus
 * the scales of quantized encodings. Engine-neutral, so protocols never see an NDArray.
 */
public record TensorPayload(Encoding encoding, int[] shape, byte[] bytes, float[] scales) {

    /** How the values are stored. */
    public enum Encoding {
        F32(32, false), F16(16, false), BF16(16, false),
        /** Symmetric int8, one scale per token (row of the last dimension). */
        INT8_TOKEN(8, false),
        /** Symmetric int8, one scale per channel (column of the last dimension). */
        INT8_CHANNEL(8, true),
        /** Symmetric int4 (levels -7..7, two per byte), one scale per token. */
        INT4_TOKEN(4, false),
        /** Symmetric int4, one scale per channel. */
        INT4_CHANNEL(4, true);

        private final int bits;
        private final boolean perChannel;

        Encoding(int bits, boolean perChannel) {
            this.bits = bits;
            this.perChannel = perChannel;
        }

        public int bits() {
            return bits;
        }

        public boolean quantized() {
            return bits <= 8;
        }

        public boolean perChannel() {
            return perChannel;
        }

        /** The encoding for a bit-width: 32, 16 (fp16), 8 or 4, with per-token scales. */
        public static Encoding forBits(int bits) {
            return switch (bits) {
                case 32 -> F32;
                case 16 -> F16;
                case 8 -> INT8_TOKEN;
                case 4 -> INT4_TOKEN;
                default -> throw new IllegalArgumentException("no wire encoding of " + bits + " bits; expected 32, 16, 8 or 4");
            };
        }
    }

    public TensorPayload {
        long n = HostTensor.numel(shape);
        long expected = switch (encoding) {
            case F32 -> 4 * n;
            case F16, BF16 -> 2 * n;
            case INT8_TOKEN, INT8_CHANNEL -> n;
            case INT4_TOKEN, INT4_CHANNEL -> (n + 1) / 2;
        };
        if (bytes.length != expected) {
            throw new IllegalArgumentException(
                    encoding + " payload of shape " + Arrays.toString(shape) + " needs " + expected + " bytes, got " + bytes.length);
        }
        if (encoding.quantized() == (scales == null)) {
            throw new IllegalArgumentException(encoding + " payload " + (scales == null ? "needs" : "takes no") + " scales");
        }
    }

    /** The index of the first NaN or infinite value (or scale), or -1 when every one is finite. */
    public long firstNonFinite() {
        if (scales != null) {
            for (int i = 0; i < scales.length; i++) {
                if (!Float.isFinite(scales[i])) {
                    return i;
                }
            }
        }
        if (encoding.quantized()) {
            return -1; // integers with finite scales decode to finite values
        }
        // read in place: this runs on every micro-batch a shard receives
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int n = Math.toIntExact(numel());
        for (int i = 0; i < n; i++) {
            float v = switch (encoding) {
                case F32 -> b.getFloat(4 * i);
                case F16 -> Half.toFloat(b.getShort(2 * i));
                default -> Half.bf16ToFloat(b.getShort(2 * i));
            };
            if (!Float.isFinite(v)) {
                return i;
            }
        }
        return -1;
    }

    public long numel() {
        return HostTensor.numel(shape);
    }

    /** Bytes on the wire for values and scales. */
    public long wireBytes() {
        return bytes.length + (scales == null ? 0 : 4L * scales.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorPayload p && encoding == p.encoding && Arrays.equals(shape, p.shape)
                && Arrays.equals(bytes, p.bytes) && Arrays.equals(scales, p.scales);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "TensorPayload[" + encoding + " " + Arrays.toString(shape) + ", " + wireBytes() + " bytes]";
    }
}
