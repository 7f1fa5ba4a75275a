package io.splitfed.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.splitfed.model.tensor.Half;
import io.splitfed.model.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header,
 * then raw little-endian data). The header is checked against the file before any tensor is
 * touched, so a lying offset is reported with the tensor's name instead of read as garbage. F32,
 * F16 and BF16 tensors are read as fp32.
 */
public final class SafetensorsFile {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    /** One entry of the header. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {}

    private final Path file;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final long dataStart;

    private SafetensorsFile(Path file, Map<String, Entry> entries, Map<String, String> metadata, long dataStart) {
        this.file = file;
        this.entries = entries;
        this.metadata = metadata;
        this.dataStart = dataStart;
    }

    /** Opens and validates the header of {@code file}. */
    public static SafetensorsFile open(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointFormatException(file, "file is " + size + " bytes, too short for a safetensors header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw new CheckpointFormatException(
                        file, "header length field says " + headerLen + " bytes, but the file holds " + (size - 8) + " bytes after it");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8);
            String headerText = new String(headerBuf.array(), StandardCharsets.UTF_8);
            JsonNode header;
            try {
                header = JSON.readTree(headerText);
            } catch (JsonProcessingException e) {
                throw new CheckpointFormatException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
            }
            if (header == null || !header.isObject()) {
                throw new CheckpointFormatException(file, "header must be a JSON object");
            }
            long dataSize = size - 8 - headerLen;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (field.getKey().equals("__metadata__")) {
                    field.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                entries.put(field.getKey(), parseEntry(file, field.getKey(), field.getValue(), dataSize));
            }
            checkLayout(file, entries.values(), dataSize);
            return new SafetensorsFile(file, Collections.unmodifiableMap(entries), metadata, 8 + headerLen);
        } catch (NoSuchFileException e) {
            throw new CheckpointFormatException(file, "no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static Entry parseEntry(Path file, String name, JsonNode node, long dataSize) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new CheckpointFormatException(file, where + " must be an object with dtype, shape and data_offsets");
        }
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isTextual()) {
            throw new CheckpointFormatException(file, where + " field dtype is missing");
        }
        int elementSize = elementSize(dtype.asText());
        if (elementSize < 0) {
            throw new CheckpointFormatException(file, where + " field dtype '" + dtype.asText() + "' is not one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL");
        }
        if (shape == null || !shape.isArray()) {
            throw new CheckpointFormatException(file, where + " field shape is missing");
        }
        int[] dims = new int[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.canConvertToInt() || d.asInt() < 0) {
                throw new CheckpointFormatException(file, where + " field shape has a bad dimension " + d);
            }
            dims[i] = d.asInt();
        }
        if (offsets == null || !offsets.isArray() || offsets.size() != 2 || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw new CheckpointFormatException(file, where + " field data_offsets must be [begin, end]");
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        long expected = HostTensor.numel(dims) * elementSize;
        if (begin < 0 || end < begin) {
            throw new CheckpointFormatException(file, where + " field data_offsets [" + begin + ", " + end + "] is not an increasing range");
        }
        if (end - begin != expected) {
            throw new CheckpointFormatException(
                    file,
                    where + " field data_offsets [" + begin + ", " + end + "] spans " + (end - begin)
                            + " bytes, but shape " + Arrays.toString(dims) + " of " + dtype.asText() + " needs " + expected);
        }
        if (end > dataSize) {
            throw new CheckpointFormatException(
                    file, where + " field data_offsets [" + begin + ", " + end + "] lies past the end of the data section (" + dataSize + " bytes)");
        }
        return new Entry(name, dtype.asText(), dims, begin, end);
    }

    private static void checkLayout(Path file, java.util.Collection<Entry> entries, long dataSize) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long cursor = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin() < cursor) {
                throw new CheckpointFormatException(
                        file, "tensor '" + e.name() + "' field data_offsets overlaps tensor '" + previous.name() + "'");
            }
            cursor = e.end();
            previous = e;
        }
    }

    private static int elementSize(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL" -> 1;
            default -> -1;
        };
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += n;
        }
        buf.flip();
    }

    public Path file() {
        return file;
    }

    public Set<String> names() {
        return entries.keySet();
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** Reads one tensor as fp32. */
    public HostTensor read(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointFormatException(file, "has no tensor named '" + name + "'");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long length = e.end() - e.begin();
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), length);
            map.order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[Math.toIntExact(HostTensor.numel(e.shape()))];
            switch (e.dtype()) {
                case "F32" -> map.asFloatBuffer().get(out);
                case "F64" -> {
                    for (int i = 0; i < out.length; i++) {
                        out[i] = (float) map.getDouble(i * 8);
                    }
                }
                case "F16" -> {
                    for (int i = 0; i < out.length; i++) {
                        out[i] = Half.toFloat(map.getShort(i * 2));
                    }
                }
                case "BF16" -> {
                    for (int i = 0; i < out.length; i++) {
                        out[i] = Half.bf16ToFloat(map.getShort(i * 2));
                    }
                }
                default -> throw new CheckpointFormatException(
                        file, "tensor '" + name + "' has dtype " + e.dtype() + "; only floating-point tensors can be loaded as weights");
            }
            return new HostTensor(e.shape().clone(), out);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot read " + file, ex);
        }
    }

    /** Writes fp32 tensors in the given order, atomically, with optional string metadata. */
    public static void write(Path target, Map<String, HostTensor> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, HostTensor> t : tensors.entrySet()) {
            ObjectNode node = header.putObject(t.getKey());
            node.put("dtype", "F32");
            ArrayNode shape = node.putArray("shape");
            for (int d : t.getValue().shape()) {
                shape.add(d);
            }
            long bytes = 4L * t.getValue().size();
            node.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] headerBytes;
        try {
            headerBytes = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (headerBytes.length + 7) / 8 * 8;
        byte[] headerPadded = Arrays.copyOf(headerBytes, padded);
        Arrays.fill(headerPadded, headerBytes.length, padded, (byte) ' ');
        AtomicFiles.write(
                target,
                out -> {
                    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
                    out.write(len.array());
                    out.write(headerPadded);
                    ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                    for (HostTensor t : tensors.values()) {
                        for (float v : t.data()) {
                            if (chunk.remaining() < 4) {
                                out.write(chunk.array(), 0, chunk.position());
                                chunk.clear();
                            }
                            chunk.putFloat(v);
                        }
                    }
                    out.write(chunk.array(), 0, chunk.position());
                });
    }

    /** Convenience: reads every floating-point tensor. */
    public Map<String, HostTensor> readAll() {
        Map<String, HostTensor> all = new LinkedHashMap<>();
        for (String name : entries.keySet()) {
            all.put(name, read(name));
        }
        return all;
    }

    static boolean exists(Path p) {
        return Files.isRegularFile(p);
    }
}
