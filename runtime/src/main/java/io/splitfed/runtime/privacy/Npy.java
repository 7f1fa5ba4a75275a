package io.splitfed.runtime.privacy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * NumPy's {@code .npy} format, version 1.0, little-endian, C order: what {@code numpy.load} reads
 * with no pickle. Float32, int32 and bool arrays.
 */
public final class Npy {

    private Npy() {}

    public static void float32(Path file, float[] values, int... shape) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        write(file, "<f4", shape, b.array(), values.length);
    }

    public static void int32(Path file, int[] values, int... shape) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(values);
        write(file, "<i4", shape, b.array(), values.length);
    }

    public static void bool(Path file, boolean[] values, int... shape) throws IOException {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) (values[i] ? 1 : 0);
        }
        write(file, "|b1", shape, bytes, values.length);
    }

    private static void write(Path file, String dtype, int[] shape, byte[] data, int count) throws IOException {
        long expected = Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b);
        if (expected != count) {
            throw new IllegalArgumentException(file + ": " + count + " values for shape " + Arrays.toString(shape));
        }
        String dims = Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(", ")) + (shape.length == 1 ? "," : "");
        StringBuilder header = new StringBuilder("{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }");
        while ((10 + header.length() + 1) % 64 != 0) { // magic, version and length take 10 bytes; the header ends in a newline
            header.append(' ');
        }
        header.append('\n');
        byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) (h.length & 0xff), (byte) (h.length >> 8)});
            out.write(h);
            out.write(data);
        }
    }
}
