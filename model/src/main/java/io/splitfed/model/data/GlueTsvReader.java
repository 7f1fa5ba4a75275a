package io.splitfed.model.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * GLUE's tab-separated files, recognised by their header: SST-2 ({@code sentence, label}), MRPC
 * ({@code Quality, #1 ID, #2 ID, #1 String, #2 String}, BOM and all), MNLI's 12 columns (and the
 * 16 of its dev sets, gold label last), and the sentence/question pair tasks (QNLI, RTE, QQP,
 * WNLI). Quotes are literal, as in GLUE. Rows without a label column read as unlabelled (-1).
 */
public final class GlueTsvReader {

    /** A recognised GLUE layout. */
    public enum Task {
        SST2(List.of("negative", "positive")),
        MRPC(List.of("not_equivalent", "equivalent")),
        MNLI(List.of("entailment", "neutral", "contradiction")),
        QNLI(List.of("entailment", "not_entailment")),
        RTE(List.of("entailment", "not_entailment")),
        QQP(List.of("not_duplicate", "duplicate")),
        WNLI(List.of("not_entailment", "entailment")),
        COLA(List.of("unacceptable", "acceptable"));

        private final List<String> labels;

        Task(List<String> labels) {
            this.labels = labels;
        }

        public List<String> labels() {
            return labels;
        }
    }

    private GlueTsvReader() {}

    /** Reads {@code file}, recognising the task from its header. */
    public static Dataset read(Path file) {
        return read(file, null);
    }

    /** Reads {@code file}; {@code task} may be null to recognise it from the header. */
    public static Dataset read(Path file, Task task) {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String headerLine = in.readLine();
            if (headerLine == null) {
                throw new DataFormatException(file, 1, "file is empty; expected a GLUE header row");
            }
            if (headerLine.startsWith("\uFEFF")) {
                headerLine = headerLine.substring(1);
            }
            String[] header = headerLine.split("\t", -1);
            Layout layout = Layout.of(file, header, task);
            List<Example> examples = new ArrayList<>();
            String line;
            long lineNo = 1;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isEmpty()) {
                    continue;
                }
                String[] cols = line.split("\t", -1);
                if (cols.length < layout.minColumns) {
                    throw new DataFormatException(
                            file, lineNo, "expected " + layout.minColumns + " tab-separated columns (" + String.join(", ", layout.required()) + ") but found " + cols.length);
                }
                examples.add(layout.example(file, lineNo, cols));
            }
            return new Dataset(layout.task.name().toLowerCase(Locale.ROOT), file, layout.task.labels(), examples);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, "no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private record Layout(Task task, List<String> header, int textCol, int pairCol, int labelCol, int minColumns) {

        static Layout of(Path file, String[] header, Task forced) {
            List<String> h = Arrays.asList(header);
            Task task = forced;
            int text;
            int pair = -1;
            int label;
            if (h.contains("sentence") && !h.contains("question") && h.size() <= 3 && forced != Task.COLA) {
                task = task == null ? Task.SST2 : task;
                text = h.indexOf("sentence");
                label = h.indexOf("label");
            } else if (h.contains("#1 String") && h.contains("#2 String")) {
                task = task == null ? Task.MRPC : task;
                text = h.indexOf("#1 String");
                pair = h.indexOf("#2 String");
                label = h.indexOf("Quality");
            } else if (h.contains("sentence1") && h.contains("gold_label")) {
                task = task == null ? Task.MNLI : task;
                text = h.indexOf("sentence1");
                pair = h.indexOf("sentence2");
                label = h.lastIndexOf("gold_label");
            } else if (h.contains("question") && h.contains("sentence")) {
                task = task == null ? Task.QNLI : task;
                text = h.indexOf("question");
                pair = h.indexOf("sentence");
                label = h.indexOf("label");
            } else if (h.contains("question1") && h.contains("question2")) {
                task = task == null ? Task.QQP : task;
                text = h.indexOf("question1");
                pair = h.indexOf("question2");
                label = h.indexOf("is_duplicate");
            } else if (h.contains("sentence1") && h.contains("sentence2")) {
                task = task == null ? Task.RTE : task;
                text = h.indexOf("sentence1");
                pair = h.indexOf("sentence2");
                label = h.indexOf("label");
            } else {
                throw new DataFormatException(
                        file, 1, "header " + h + " is not a GLUE layout; expected columns such as (sentence, label), "
                                + "(Quality, #1 String, #2 String) or MNLI's (..., sentence1, sentence2, ..., gold_label)");
            }
            int min = Math.max(text, Math.max(pair, label)) + 1;
            return new Layout(task, h, text, pair, label, min);
        }

        List<String> required() {
            List<String> r = new ArrayList<>();
            r.add(header.get(textCol));
            if (pairCol >= 0) {
                r.add(header.get(pairCol));
            }
            if (labelCol >= 0) {
                r.add(header.get(labelCol));
            }
            return r;
        }

        Example example(Path file, long line, String[] cols) {
            int lbl = labelCol < 0 ? -1 : parseLabel(file, line, cols[labelCol].trim());
            String a = cols[textCol].trim();
            String b = pairCol < 0 ? null : cols[pairCol].trim();
            return new Example(a, b, lbl, null, null);
        }

        int parseLabel(Path file, long line, String raw) {
            List<String> names = task.labels();
            String field = header.get(labelCol);
            int byName = names.indexOf(raw);
            if (byName >= 0) {
                return byName;
            }
            try {
                int v = Integer.parseInt(raw);
                if (v < 0 || v >= names.size()) {
                    throw new DataFormatException(
                            file, line, "field '" + field + "' = " + raw + " is not a label of " + task + " (expected 0.." + (names.size() - 1) + " or one of " + names + ")");
                }
                return v;
            } catch (NumberFormatException e) {
                throw new DataFormatException(
                        file, line, "field '" + field + "' = \"" + raw + "\" is not a label of " + task + " (expected 0.." + (names.size() - 1) + " or one of " + names + ")");
            }
        }
    }
}
