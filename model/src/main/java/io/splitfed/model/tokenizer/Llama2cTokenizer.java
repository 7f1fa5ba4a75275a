package io.splitfed.model.tokenizer;

import io.splitfed.model.io.CheckpointFormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * llama2.c's tokenizer file: an int32 max token length, then per token a float32 merge score, an
 * int32 byte length and the bytes. Encoding follows llama2.c's {@code encode}: a dummy-prefix
 * space, one piece per UTF-8 code point (byte fallback {@code <0xXX>} = id byte + 3), then
 * greedy merges of the best-scoring adjacent pair.
 */
public final class Llama2cTokenizer implements Tokenizer {

    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> lookup = new HashMap<>();

    private Llama2cTokenizer(String[] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        for (int i = 0; i < pieces.length; i++) {
            lookup.putIfAbsent(pieces[i], i);
        }
    }

    public static Llama2cTokenizer load(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointFormatException(file, "no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) {
            throw new CheckpointFormatException(file, "too short for llama2.c's tokenizer header");
        }
        int maxLen = b.getInt();
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (b.hasRemaining()) {
            int token = pieces.size();
            if (b.remaining() < 8) {
                throw new CheckpointFormatException(file, "token " + token + " is truncated at byte " + b.position());
            }
            float score = b.getFloat();
            int len = b.getInt();
            if (len < 0 || len > maxLen || len > b.remaining()) {
                throw new CheckpointFormatException(
                        file, "token " + token + " field len = " + len + " at byte " + (b.position() - 4) + " is outside 0.." + Math.min(maxLen, b.remaining()));
            }
            byte[] bytes = new byte[len];
            b.get(bytes);
            pieces.add(new String(bytes, StandardCharsets.UTF_8));
            scores.add(score);
        }
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
        }
        return new Llama2cTokenizer(pieces.toArray(String[]::new), s);
    }

    @Override
    public int[] encode(String text) {
        List<Integer> tokens = new ArrayList<>();
        if (!text.isEmpty()) {
            Integer space = lookup.get(" ");
            if (space != null) {
                tokens.add(space);
            }
        }
        text.codePoints().forEach(cp -> {
            String piece = new String(Character.toChars(cp));
            Integer id = lookup.get(piece);
            if (id != null) {
                tokens.add(id);
            } else {
                for (byte by : piece.getBytes(StandardCharsets.UTF_8)) {
                    tokens.add((by & 0xff) + 3);
                }
            }
        });
        while (true) {
            float best = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (int i = 0; i + 1 < tokens.size(); i++) {
                Integer id = lookup.get(pieces[tokens.get(i)] + pieces[tokens.get(i + 1)]);
                if (id != null && scores[id] > best) {
                    best = scores[id];
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx < 0) {
                break;
            }
            tokens.set(bestIdx, bestId);
            tokens.remove(bestIdx + 1);
        }
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String decode(int[] ids) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int prev = -1;
        for (int id : ids) {
            if (id < 0 || id >= pieces.length) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + pieces.length);
            }
            String piece = pieces[id];
            if (prev == bosId() && piece.startsWith(" ")) {
                piece = piece.substring(1);
            }
            if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
                out.write(Integer.parseInt(piece.substring(3, 5), 16));
            } else if (id != bosId() && id != eosId()) {
                out.writeBytes(piece.getBytes(StandardCharsets.UTF_8));
            }
            prev = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bosId() {
        return 1;
    }

    @Override
    public int eosId() {
        return 2;
    }

    @Override
    public int padId() {
        return 0;
    }

    @Override
    public boolean addsBos() {
        return true;
    }
}
