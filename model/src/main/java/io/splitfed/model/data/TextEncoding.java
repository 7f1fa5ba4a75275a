package io.splitfed.model.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Data files are UTF-8 text. This check reads a file once before any reader parses it, and refuses
 * anything else with the file, the line and byte offset, and what it found: a UTF-16 or UTF-32
 * byte-order mark, a NUL byte (a binary file, or UTF-16 without a mark), or bytes that are not UTF-8
 * (Latin-1, say). A UTF-8 byte-order mark is allowed.
 */
public final class TextEncoding {

    private static final int CHUNK = 1 << 16;

    private TextEncoding() {}

    /** Returns normally when {@code file} is UTF-8 text; otherwise throws {@link DataFormatException} saying why. */
    public static void requireUtf8(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            ByteBuffer bytes = ByteBuffer.allocate(CHUNK);
            CharBuffer chars = CharBuffer.allocate(CHUNK);
            long offset = 0; // of bytes[0] in the file
            long line = 1;
            boolean first = true;
            boolean eof = false;
            while (!eof) {
                int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
                eof = n < 0;
                if (n > 0) {
                    bytes.position(bytes.position() + n);
                }
                bytes.flip();
                if (first && bytes.remaining() >= 2) {
                    first = false;
                    byteOrderMark(file, bytes);
                    lines(bytes, 0, bytes.limit(), 1, 0, file); // a NUL anywhere at the start: binary, before any other complaint
                }
                int start = bytes.position();
                CoderResult r = utf8.decode(bytes, chars, eof);
                line = lines(bytes, start, bytes.position(), line, offset, file);
                if (r.isError()) {
                    int at = bytes.position();
                    byte[] bad = new byte[Math.min(4, bytes.limit() - at)];
                    bytes.get(at, bad);
                    throw new DataFormatException(file, line, "byte offset " + (offset + at) + " holds 0x" + HexFormat.ofDelimiter(" 0x").formatHex(bad)
                            + ", which is not UTF-8; expected UTF-8 text (from Latin-1: iconv -f LATIN1 -t UTF-8 " + file.getFileName() + ")");
                }
                chars.clear();
                offset += bytes.position();
                bytes.compact();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static void byteOrderMark(Path file, ByteBuffer b) {
        int b0 = b.get(0) & 0xff;
        int b1 = b.get(1) & 0xff;
        boolean utf32le = b.remaining() >= 4 && b0 == 0xff && b1 == 0xfe && b.get(2) == 0 && b.get(3) == 0;
        if (utf32le || (b.remaining() >= 4 && b0 == 0 && b1 == 0 && (b.get(2) & 0xff) == 0xfe && (b.get(3) & 0xff) == 0xff)) {
            throw new DataFormatException(file, 1, "starts with a UTF-32 byte-order mark; expected UTF-8 text (convert: iconv -f UTF-32 -t UTF-8 "
                    + file.getFileName() + ")");
        }
        if ((b0 == 0xff && b1 == 0xfe) || (b0 == 0xfe && b1 == 0xff)) {
            throw new DataFormatException(file, 1, "starts with a UTF-16 byte-order mark (0x" + Integer.toHexString(b0) + " 0x" + Integer.toHexString(b1)
                    + "); expected UTF-8 text (convert: iconv -f UTF-16 -t UTF-8 " + file.getFileName() + ")");
        }
    }

    /** Counts line ends in {@code b[from, to)}, refusing a NUL byte; returns the line number after them. */
    private static long lines(ByteBuffer b, int from, int to, long line, long offset, Path file) {
        for (int i = from; i < to; i++) {
            byte c = b.get(i);
            if (c == '\n') {
                line++;
            } else if (c == 0) {
                throw new DataFormatException(file, line, "byte offset " + (offset + i) + " is a NUL byte: a binary file, or UTF-16 without a "
                        + "byte-order mark; expected UTF-8 text");
            }
        }
        return line;
    }
}
