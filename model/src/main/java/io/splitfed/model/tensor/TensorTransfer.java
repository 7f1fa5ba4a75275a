package io.splitfed.model.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Moves tensors between the Java heap and the engine. Tensor thread only. */
public final class TensorTransfer {

    private TensorTransfer() {}

    public static NDArray toNDArray(NDManager manager, HostTensor tensor) {
        return manager.create(tensor.data(), shape(tensor.shape()));
    }

    public static HostTensor toHost(NDArray array) {
        long[] s = array.getShape().getShape();
        int[] shape = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            shape[i] = Math.toIntExact(s[i]);
        }
        NDArray f32 = array.getDataType() == DataType.FLOAT32 ? array : array.toType(DataType.FLOAT32, false);
        try {
            // tryDirect makes a non-contiguous tensor contiguous first; the plain copy would not
            java.nio.FloatBuffer fb = f32.toByteBuffer(true).asFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return new HostTensor(shape, out);
        } finally {
            if (f32 != array) {
                f32.close();
            }
        }
    }

    /** Row-major int ids as an int64 tensor of the given shape. */
    public static NDArray longs(NDManager manager, int[] values, long... shape) {
        ByteBuffer buf = manager.allocateDirect(values.length * 8);
        for (int v : values) {
            buf.putLong(v);
        }
        buf.rewind();
        return manager.create(buf, new Shape(shape), DataType.INT64);
    }

    public static Shape shape(int[] dims) {
        long[] s = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            s[i] = dims[i];
        }
        return new Shape(s);
    }

    /** Little-endian float bytes as an fp32 tensor. */
    public static NDArray fromLittleEndianFloats(NDManager manager, byte[] bytes, int[] shape) {
        ByteBuffer direct = manager.allocateDirect(bytes.length);
        ByteBuffer src = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            direct.put(src);
        } else {
            while (src.hasRemaining()) {
                direct.putFloat(src.getFloat());
            }
        }
        direct.rewind();
        return manager.create(direct, shape(shape), DataType.FLOAT32);
    }
}
