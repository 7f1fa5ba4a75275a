package io.splitfed.model.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * JSON data: MNLI's preprocessed form ({@code {"0": {"text_a", "text_b", "label"}}}), GSM8K's
 * JSONL ({@code question}, {@code answer} ending in {@code #### N}), and generic JSONL with named
 * text, pair and label fields.
 */
public final class JsonDataReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonDataReader() {}

    /** MNLI as {@code glue_pretrain_MNLI/*.json}: string labels entailment / neutral / contradiction. */
    public static Dataset readMnliJson(Path file) {
        List<String> labels = GlueTsvReader.Task.MNLI.labels();
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new DataFormatException(file, e.getLocation().getLineNr(), "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            if (!Files.exists(file)) {
                throw new DataFormatException(file, "no such file");
            }
            throw new UncheckedIOException("cannot read " + file, e);
        }
        if (root == null || !root.isObject()) {
            throw new DataFormatException(file, "expected a JSON object of id to {text_a, text_b, label}");
        }
        List<Example> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode n = e.getValue();
            String where = "entry \"" + e.getKey() + "\"";
            String a = requireText(file, where, n, "text_a");
            String b = requireText(file, where, n, "text_b");
            String label = requireText(file, where, n, "label");
            int idx = labels.indexOf(label);
            if (idx < 0) {
                throw new DataFormatException(file, where + " field label = \"" + label + "\" is not one of " + labels);
            }
            out.add(Example.pair(a, b, idx));
        }
        return new Dataset("mnli", file, labels, out);
    }

    private static String requireText(Path file, String where, JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new DataFormatException(file, where + " field " + field + " is missing or not a string");
        }
        return v.asText();
    }

    /** GSM8K: the worked answer is the target; the number after "####" is the answer to match. */
    public static Dataset readGsm8k(Path file) {
        List<Example> out = new ArrayList<>();
        forEachLine(file, (line, node) -> {
            String q = lineText(file, line, node, "question");
            String a = lineText(file, line, node, "answer");
            int mark = a.lastIndexOf("####");
            if (mark < 0) {
                throw new DataFormatException(file, line, "field answer has no '####' before the final answer");
            }
            String finalAnswer = a.substring(mark + 4).trim().replace(",", "");
            out.add(new Example(q, null, -1, a, finalAnswer));
        });
        return new Dataset("gsm8k", file, List.of(), out);
    }

    /**
     * Generic JSONL classification: {@code textField} (and {@code pairField}, may be null) and an
     * integer or string {@code labelField}; string labels are numbered in order of first sight
     * unless {@code labelNames} fixes them.
     */
    public static Dataset readJsonl(Path file, String textField, String pairField, String labelField, List<String> labelNames) {
        List<String> names = new ArrayList<>(labelNames == null ? List.of() : labelNames);
        boolean fixed = labelNames != null && !labelNames.isEmpty();
        List<Example> out = new ArrayList<>();
        int[] maxInt = {-1};
        forEachLine(file, (line, node) -> {
            String a = lineText(file, line, node, textField);
            String b = pairField == null ? null : lineText(file, line, node, pairField);
            JsonNode l = node.get(labelField);
            if (l == null || l.isNull()) {
                throw new DataFormatException(file, line, "field " + labelField + " is missing");
            }
            int label;
            if (l.isIntegralNumber()) {
                label = l.asInt();
                if (label < 0 || (fixed && label >= names.size())) {
                    throw new DataFormatException(file, line, "field " + labelField + " = " + label + " is not a label (expected 0.." + (names.size() - 1) + ")");
                }
                maxInt[0] = Math.max(maxInt[0], label);
            } else {
                String s = l.asText();
                label = names.indexOf(s);
                if (label < 0) {
                    if (fixed) {
                        throw new DataFormatException(file, line, "field " + labelField + " = \"" + s + "\" is not one of " + names);
                    }
                    names.add(s);
                    label = names.size() - 1;
                }
            }
            out.add(new Example(a, b, label, null, null));
        });
        if (names.isEmpty()) {
            for (int i = 0; i <= maxInt[0]; i++) {
                names.add(Integer.toString(i));
            }
        }
        String name = file.getFileName().toString().replaceFirst("\\.jsonl?$", "");
        return new Dataset(name, file, names, out);
    }

    private interface LineHandler {
        void accept(long line, JsonNode node);
    }

    private static void forEachLine(Path file, LineHandler handler) {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String s;
            long line = 0;
            while ((s = in.readLine()) != null) {
                line++;
                if (s.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(s);
                } catch (JsonProcessingException e) {
                    throw new DataFormatException(file, line, "not valid JSON: " + e.getOriginalMessage());
                }
                if (node == null || !node.isObject()) {
                    throw new DataFormatException(file, line, "expected a JSON object per line");
                }
                handler.accept(line, node);
            }
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, "no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static String lineText(Path file, long line, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new DataFormatException(file, line, "field " + field + " is missing or not a string");
        }
        return v.asText();
    }
}
