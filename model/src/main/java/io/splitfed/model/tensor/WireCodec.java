package io.splitfed.model.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes engine tensors into {@link TensorPayload}s and decodes them back, on the tensor thread.
 * Decoding happens on the receiving side, inside the payload, so any transport carries any
 * encoding.
 */
public final class WireCodec {

    private WireCodec() {}

    /** Encodes an fp32 array; quantized encodings round to nearest. */
    public static TensorPayload encode(NDArray array, TensorPayload.Encoding encoding) {
        return encode(array, encoding, null);
    }

    /**
     * Encodes an fp32 array. With a {@code stochasticSeed}, quantized encodings round
     * stochastically (unbiased, as gradients need); without, to nearest.
     */
    public static TensorPayload encode(NDArray array, TensorPayload.Encoding encoding, Long stochasticSeed) {
        TensorExecutor.checkOnTensorThread();
        int[] shape = shapeOf(array);
        return switch (encoding) {
            case F32 -> new TensorPayload(encoding, shape, bytes(array), null);
            case F16 -> {
                try (NDArray half = array.toType(DataType.FLOAT16, false)) {
                    yield new TensorPayload(encoding, shape, bytes(half), null);
                }
            }
            case BF16 -> {
                try (NDArray half = array.toType(DataType.BFLOAT16, false)) {
                    yield new TensorPayload(encoding, shape, bytes(half), null);
                }
            }
            default -> Quantizer.encode(array.toFloatArray(), shape, encoding, stochasticSeed);
        };
    }

    /** Decodes to an fp32 array owned by {@code manager}. */
    public static NDArray decode(NDManager manager, TensorPayload payload) {
        TensorExecutor.checkOnTensorThread();
        return switch (payload.encoding()) {
            case F32 -> create(manager, payload.bytes(), payload.shape(), DataType.FLOAT32);
            case F16 -> toF32(create(manager, payload.bytes(), payload.shape(), DataType.FLOAT16));
            case BF16 -> toF32(create(manager, payload.bytes(), payload.shape(), DataType.BFLOAT16));
            default -> manager.create(Quantizer.decode(payload), TensorTransfer.shape(payload.shape()));
        };
    }

    /** fp32 values of a payload on the heap, for checks and tests. */
    public static float[] toFloats(TensorPayload payload) {
        ByteBuffer b = ByteBuffer.wrap(payload.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        int n = Math.toIntExact(payload.numel());
        float[] out = new float[n];
        switch (payload.encoding()) {
            case F32 -> b.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Half.toFloat(b.getShort(2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Half.bf16ToFloat(b.getShort(2 * i));
                }
            }
            default -> {
                return Quantizer.decode(payload);
            }
        }
        return out;
    }

    /** Re-encodes heap values (for payloads assembled on the heap, such as cached activations). */
    public static TensorPayload encode(float[] values, int[] shape, TensorPayload.Encoding encoding, Long stochasticSeed) {
        return switch (encoding) {
            case F32 -> f32(values, shape);
            case F16, BF16 -> {
                ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : values) {
                    b.putShort(encoding == TensorPayload.Encoding.F16 ? Half.fromFloat(v) : Half.floatToBf16(v));
                }
                yield new TensorPayload(encoding, shape.clone(), b.array(), null);
            }
            default -> Quantizer.encode(values, shape, encoding, stochasticSeed);
        };
    }

    /** An fp32 payload of heap values. */
    public static TensorPayload f32(float[] values, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new TensorPayload(TensorPayload.Encoding.F32, shape, b.array(), null);
    }

    private static NDArray toF32(NDArray half) {
        NDArray f = half.toType(DataType.FLOAT32, false);
        half.close();
        return f;
    }

    private static NDArray create(NDManager manager, byte[] bytes, int[] shape, DataType type) {
        ByteBuffer direct = manager.allocateDirect(bytes.length);
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("big-endian hosts are not supported");
        }
        direct.put(bytes).rewind();
        return manager.create(direct, TensorTransfer.shape(shape), type);
    }

    private static byte[] bytes(NDArray array) {
        ByteBuffer b = array.toByteBuffer();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    static int[] shapeOf(NDArray array) {
        long[] s = array.getShape().getShape();
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = Math.toIntExact(s[i]);
        }
        return out;
    }
}
