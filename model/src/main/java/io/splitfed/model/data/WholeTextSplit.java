package io.splitfed.model.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validation split that looks like what users evaluate on. SST-2's train file holds every phrase
 * of every parse tree ("the", "gripping", "a gripping film", ... and the whole sentence), while its
 * dev and test sets hold whole sentences only. A random split of such rows scores short phrases
 * whose sentences sit in training. So when most rows are phrases of other rows, validation takes
 * whole texts only (rows that no other row contains), stratified by label, and training drops every
 * row that is a phrase of a validation text, so nothing of a held-out sentence is trained on. Data
 * without that structure (MRPC, MNLI, GSM8K) gets the plain {@link StratifiedSplit}.
 */
public final class WholeTextSplit {

    /**
     * @param wholeTexts rows that no other row contains (all rows when the data has no phrase structure)
     * @param dropped training rows left out because a validation text contains them
     */
    public record Result(int[] train, int[] validation, boolean phrases, int wholeTexts, int dropped) {}

    /** Below this share of whole texts, the data is taken to hold phrases of its sentences. */
    private static final double PHRASE_STRUCTURE = 0.5;

    private WholeTextSplit() {}

    /** {@code validationFraction} is a share of the whole texts (of all rows without phrase structure). */
    public static Result of(List<Example> examples, int[] labels, double validationFraction, long seed) {
        boolean pairs = examples.stream().anyMatch(e -> e.textPair() != null);
        boolean[] whole = pairs ? null : wholeTexts(examples);
        int wholeCount = 0;
        if (whole != null) {
            for (boolean w : whole) {
                wholeCount += w ? 1 : 0;
            }
        }
        if (whole == null || wholeCount >= PHRASE_STRUCTURE * examples.size()) {
            StratifiedSplit.Split s = StratifiedSplit.of(labels, validationFraction, seed);
            return new Result(s.train(), s.validation(), false, examples.size(), 0);
        }
        int[] wholeIdx = new int[wholeCount];
        int[] wholeLabels = new int[wholeCount];
        for (int i = 0, n = 0; i < whole.length; i++) {
            if (whole[i]) {
                wholeIdx[n] = i;
                wholeLabels[n++] = labels[i];
            }
        }
        StratifiedSplit.Split s = StratifiedSplit.of(wholeLabels, validationFraction, seed);
        int[] validation = new int[s.validation().length];
        Set<String> heldOutPhrases = new HashSet<>();
        for (int i = 0; i < validation.length; i++) {
            validation[i] = wholeIdx[s.validation()[i]];
            String[] words = words(examples.get(validation[i]).text());
            for (int from = 0; from < words.length; from++) {
                StringBuilder sb = new StringBuilder();
                for (int to = from; to < words.length; to++) {
                    if (to > from) {
                        sb.append(' ');
                    }
                    sb.append(words[to]);
                    heldOutPhrases.add(sb.toString());
                }
            }
        }
        Set<Integer> validationSet = new HashSet<>();
        for (int v : validation) {
            validationSet.add(v);
        }
        List<Integer> train = new ArrayList<>();
        int dropped = 0;
        for (int i = 0; i < examples.size(); i++) {
            if (validationSet.contains(i)) {
                continue;
            }
            if (heldOutPhrases.contains(normal(examples.get(i).text()))) {
                dropped++;
            } else {
                train.add(i);
            }
        }
        return new Result(train.stream().mapToInt(Integer::intValue).toArray(), validation, true, wholeCount, dropped);
    }

    /**
     * Which rows no other row contains, word for word. Each row is looked up only among the longer
     * rows that share its rarest word, so this stays fast on SST-2's 67K rows.
     */
    static boolean[] wholeTexts(List<Example> examples) {
        int n = examples.size();
        String[] texts = new String[n];
        String[][] words = new String[n][];
        Map<String, List<Integer>> rowsWith = new HashMap<>();
        for (int i = 0; i < n; i++) {
            texts[i] = normal(examples.get(i).text());
            words[i] = words(texts[i]);
            for (String w : new LinkedHashSet<>(Arrays.asList(words[i]))) {
                rowsWith.computeIfAbsent(w, k -> new ArrayList<>()).add(i);
            }
        }
        boolean[] whole = new boolean[n];
        for (int i = 0; i < n; i++) {
            if (words[i].length == 0) {
                continue;
            }
            String rarest = words[i][0];
            for (String w : words[i]) {
                if (rowsWith.get(w).size() < rowsWith.get(rarest).size()) {
                    rarest = w;
                }
            }
            String needle = " " + texts[i] + " ";
            boolean contained = false;
            for (int j : rowsWith.get(rarest)) {
                if (texts[j].length() > texts[i].length() && (" " + texts[j] + " ").contains(needle)) {
                    contained = true;
                    break;
                }
            }
            whole[i] = !contained;
        }
        return whole;
    }

    private static String normal(String text) {
        return String.join(" ", words(text));
    }

    private static String[] words(String text) {
        String t = text.strip();
        return t.isEmpty() ? new String[0] : t.split("\\s+");
    }
}
