package io.splitfed.model.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.splitfed.model.io.CheckpointFormatException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's byte-level BPE from a user's {@code vocab.json} and {@code merges.txt} (or a Hugging
 * Face {@code tokenizer.json} of the same kind): GPT-2's pre-tokenizer regex, bytes mapped to
 * printable characters, then merges in {@code merges.txt} order.
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PRE_TOKENIZER =
            Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final Map<Character, Integer> CHAR_TO_BYTE = new HashMap<>();

    static {
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE.put(c, b);
        }
    }

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final Map<String, Integer> mergeRanks;
    private final int eos;
    private final Map<String, int[]> cache = new LinkedHashMap<>(4096, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, int[]> eldest) {
            return size() > 50_000;
        }
    };

    private ByteLevelBpeTokenizer(Map<String, Integer> vocab, List<String[]> merges) {
        this.vocab = vocab;
        int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        this.idToToken = new String[max + 1];
        vocab.forEach((tok, id) -> idToToken[id] = tok);
        this.mergeRanks = new HashMap<>();
        for (int i = 0; i < merges.size(); i++) {
            mergeRanks.putIfAbsent(merges.get(i)[0] + " " + merges.get(i)[1], i);
        }
        this.eos = vocab.getOrDefault("<|endoftext|>", max);
    }

    /** Loads {@code vocab.json} + {@code merges.txt} from a directory, or a {@code tokenizer.json}. */
    public static ByteLevelBpeTokenizer load(Path path) {
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".json") && !path.getFileName().toString().equals("vocab.json")) {
            return fromTokenizerJson(path);
        }
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        Path vocabFile = dir.resolve("vocab.json");
        Path mergesFile = dir.resolve("merges.txt");
        if (!Files.isRegularFile(vocabFile) || !Files.isRegularFile(mergesFile)) {
            Path tj = dir.resolve("tokenizer.json");
            if (Files.isRegularFile(tj)) {
                return fromTokenizerJson(tj);
            }
            throw new CheckpointFormatException(dir, "has no vocab.json + merges.txt and no tokenizer.json");
        }
        Map<String, Integer> vocab = readVocab(vocabFile, readJson(vocabFile));
        List<String[]> merges = new ArrayList<>();
        try {
            List<String> lines = Files.readAllLines(mergesFile, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.startsWith("#version") || line.isBlank()) {
                    continue;
                }
                String[] parts = line.split(" ");
                if (parts.length != 2) {
                    throw new CheckpointFormatException(mergesFile, "line " + (i + 1) + ": expected two symbols separated by one space, found \"" + line + "\"");
                }
                merges.add(parts);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + mergesFile, e);
        }
        return new ByteLevelBpeTokenizer(vocab, merges);
    }

    private static ByteLevelBpeTokenizer fromTokenizerJson(Path file) {
        JsonNode root = readJson(file);
        JsonNode model = root.get("model");
        if (model == null || !"BPE".equals(model.path("type").asText())) {
            throw new CheckpointFormatException(file, "field model.type must be \"BPE\" for a byte-level BPE tokenizer");
        }
        Map<String, Integer> vocab = readVocab(file, model.get("vocab"));
        List<String[]> merges = new ArrayList<>();
        JsonNode m = model.get("merges");
        if (m == null || !m.isArray()) {
            throw new CheckpointFormatException(file, "field model.merges is missing");
        }
        for (int i = 0; i < m.size(); i++) {
            JsonNode e = m.get(i);
            String[] parts = e.isArray() ? new String[] {e.get(0).asText(), e.get(1).asText()} : e.asText().split(" ");
            if (parts.length != 2) {
                throw new CheckpointFormatException(file, "field model.merges[" + i + "] is not a pair of symbols");
            }
            merges.add(parts);
        }
        return new ByteLevelBpeTokenizer(vocab, merges);
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(file, "is not valid JSON at line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static Map<String, Integer> readVocab(Path file, JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new CheckpointFormatException(file, "vocabulary must be a JSON object of token to id");
        }
        Map<String, Integer> vocab = new HashMap<>();
        node.fields().forEachRemaining(e -> {
            if (!e.getValue().canConvertToInt()) {
                throw new CheckpointFormatException(file, "token \"" + e.getKey() + "\" has a non-integer id " + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        });
        return vocab;
    }

    @Override
    public int[] encode(String text) {
        List<Integer> out = new ArrayList<>();
        Matcher m = PRE_TOKENIZER.matcher(text);
        while (m.find()) {
            String word = m.group();
            int[] ids = cache.get(word);
            if (ids == null) {
                ids = bpe(word);
                cache.put(word, ids);
            }
            for (int id : ids) {
                out.add(id);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private int[] bpe(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        List<String> symbols = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            symbols.add(String.valueOf(BYTE_TO_CHAR[b & 0xff]));
        }
        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            int bestIdx = -1;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = mergeRanks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    bestIdx = i;
                }
            }
            if (bestIdx < 0) {
                break;
            }
            String a = symbols.get(bestIdx);
            String b = symbols.get(bestIdx + 1);
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(a) && symbols.get(i + 1).equals(b)) {
                    merged.add(a + b);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        int[] ids = new int[symbols.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.get(symbols.get(i));
            if (id == null) {
                throw new IllegalStateException("BPE produced symbol '" + symbols.get(i) + "' that is not in the vocabulary");
            }
            ids[i] = id;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            String tok = id >= 0 && id < idToToken.length ? idToToken[id] : null;
            if (tok == null) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary");
            }
            for (char c : tok.toCharArray()) {
                Integer b = CHAR_TO_BYTE.get(c);
                if (b != null) {
                    out.write(b);
                } else {
                    out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    public int bosId() {
        return -1;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public int padId() {
        return eos;
    }

    @Override
    public boolean addsBos() {
        return false;
    }
}
