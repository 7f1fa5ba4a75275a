package io.splitfed.model.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a data file by its form: GLUE .tsv, MNLI .json, GSM8K or generic .jsonl. */
public final class DataSets {

    private DataSets() {}

    public static Dataset read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, "no such file");
        }
        TextEncoding.requireUtf8(file);
        String name = file.getFileName().toString();
        if (name.endsWith(".tsv")) {
            return GlueTsvReader.read(file);
        }
        if (name.endsWith(".json")) {
            return JsonDataReader.readMnliJson(file);
        }
        if (name.endsWith(".jsonl")) {
            String first = firstLine(file);
            if (first.contains("\"question\"") && first.contains("\"answer\"")) {
                return JsonDataReader.readGsm8k(file);
            }
            String pair = first.contains("\"text_b\"") ? "text_b" : first.contains("\"sentence2\"") ? "sentence2" : null;
            String text = first.contains("\"text_a\"") ? "text_a" : first.contains("\"sentence1\"") ? "sentence1"
                    : first.contains("\"sentence\"") ? "sentence" : "text";
            return JsonDataReader.readJsonl(file, text, pair, "label", null);
        }
        throw new DataFormatException(file, "unknown data format; expected .tsv (GLUE), .json (MNLI) or .jsonl");
    }

    private static String firstLine(Path file) {
        try (var lines = Files.lines(file)) {
            return lines.filter(l -> !l.isBlank()).findFirst().orElse("");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
