package io.splitfed.model.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.splitfed.model.io.CheckpointFormatException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Any Hugging Face {@code tokenizer.json} (BERT's WordPiece, GPT-2's byte-level BPE, Llama 3's),
 * run by Hugging Face's own tokenizers library through DJL's binding. Text pairs go through the
 * tokenizer's own template when it has one ({@code [CLS] a [SEP] b [SEP]} with token types 0 and 1
 * for BERT), truncated longest-first as {@code transformers} does.
 */
public final class HfTokenizer implements Tokenizer {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Post-processors that know how to join a pair with the model's own special tokens. */
    private static final Set<String> PAIR_TEMPLATES = Set.of("BertProcessing", "RobertaProcessing", "TemplateProcessing");

    private final Path source;
    private final byte[] json;
    private final HuggingFaceTokenizer plain;
    private final Map<Integer, HuggingFaceTokenizer> truncating = new ConcurrentHashMap<>();
    private final int vocabSize;
    private final int bos;
    private final int eos;
    private final int pad;
    private final boolean templatePairs;
    private final boolean addsBos;

    private HfTokenizer(Path source, byte[] json) {
        this.source = source;
        this.json = json;
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(source, "is not valid JSON at line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode vocab = root.path("model").path("vocab");
        if (!root.has("model") || vocab.isMissingNode()) {
            throw new CheckpointFormatException(source, "has no model.vocab; expected a Hugging Face tokenizer.json");
        }
        int max = -1;
        if (vocab.isObject()) {
            for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
                max = Math.max(max, id.asInt());
            }
        } else if (vocab.isArray()) {
            max = vocab.size() - 1; // Unigram: a list of [piece, score]
        }
        Map<String, Integer> specials = new java.util.HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            specials.put(t.path("content").asText(), t.path("id").asInt());
            max = Math.max(max, t.path("id").asInt());
        }
        vocabSize = max + 1;
        bos = first(specials, "<|begin_of_text|>", "<s>", "[CLS]");
        eos = first(specials, "<|endoftext|>", "<|end_of_text|>", "</s>", "[SEP]");
        int padToken = first(specials, "[PAD]", "<pad>", "<|finetune_right_pad_id|>");
        pad = padToken >= 0 ? padToken : Math.max(eos, 0);
        String processor = root.path("post_processor").path("type").asText("");
        templatePairs = PAIR_TEMPLATES.contains(processor);
        try {
            plain = newTokenizer(Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
            // a decoder whose template puts BOS first (Llama 3) wants it; an encoder's [CLS] comes with the template
            addsBos = bos >= 0 && !specials.containsKey("[CLS]") && templatePairs && startsWithBos();
        } catch (RuntimeException e) {
            throw new CheckpointFormatException(source, "could not be read by Hugging Face tokenizers: " + e.getMessage(), e);
        }
    }

    private static int first(Map<String, Integer> specials, String... names) {
        for (String n : names) {
            Integer id = specials.get(n);
            if (id != null) {
                return id;
            }
        }
        return -1;
    }

    /** Reads {@code tokenizer.json}, or the one inside a directory. */
    public static HfTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        try {
            return new HfTokenizer(file, Files.readAllBytes(file));
        } catch (IOException e) {
            if (!Files.exists(file)) {
                throw new CheckpointFormatException(file, "no such file; expected a Hugging Face tokenizer.json");
            }
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Reads a tokenizer.json from a stream (a built-in model's class-path resource); {@code source} names it. */
    public static HfTokenizer read(Path source, InputStream in) {
        try (in) {
            return new HfTokenizer(source, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + source, e);
        }
    }

    private HuggingFaceTokenizer newTokenizer(Map<String, String> options) {
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + source, e);
        }
    }

    private boolean startsWithBos() {
        long[] ids = plain.encode("a", true, false).getIds();
        return ids.length > 0 && ids[0] == bos;
    }

    @Override
    public int[] encode(String text) {
        return toInts(plain.encode(text, false, false).getIds());
    }

    @Override
    public Input encodeInput(String text, String pair, String pairSeparator, int maxLength) {
        if (pair != null && !templatePairs) {
            return Tokenizer.super.encodeInput(text, pair, pairSeparator, maxLength);
        }
        HuggingFaceTokenizer tok = truncating.computeIfAbsent(maxLength, n -> newTokenizer(
                Map.of("addSpecialTokens", "true", "truncation", "true", "maxLength", Integer.toString(n), "padding", "false")));
        Encoding e = pair == null ? tok.encode(text) : tok.encode(text, pair);
        int[] ids = toInts(e.getIds());
        int[] types = toInts(e.getTypeIds());
        boolean anyType = false;
        for (int t : types) {
            anyType |= t != 0;
        }
        return new Input(ids, anyType ? types : null);
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return plain.decode(l, false);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int bosId() {
        return bos;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public int padId() {
        return pad;
    }

    @Override
    public boolean addsBos() {
        return addsBos;
    }

    /** True when text pairs are joined by the tokenizer's own template (BERT's [SEP] and token types). */
    public boolean templatePairs() {
        return templatePairs;
    }
}
