package io.splitfed.model.privacy;

import java.util.HashMap;
import java.util.Map;

/**
 * How much of the devices' text an attack read back, over the real tokens (special and padding
 * positions left out): exact tokens, exact sentences, sentence-level ROUGE-L (F1 of the longest
 * common subsequence), and what a frequency prior gets (the attacker's most common token guessed
 * everywhere) for comparison.
 */
public record Recovery(long tokens, long recovered, int sentences, int exactSentences, double rougeL, long priorRecovered) {

    public double tokenRate() {
        return tokens == 0 ? Double.NaN : (double) recovered / tokens;
    }

    public double exactSentenceRate() {
        return sentences == 0 ? Double.NaN : (double) exactSentences / sentences;
    }

    public double priorRate() {
        return tokens == 0 ? Double.NaN : (double) priorRecovered / tokens;
    }

    /**
     * Scores {@code guessed} against {@code truth}, both [sentences][positions]; {@code real} marks
     * the positions that count; {@code prior} is the frequency prior's one guess.
     */
    public static Recovery score(int[][] truth, int[][] guessed, boolean[][] real, int prior) {
        long tokens = 0;
        long recovered = 0;
        long priorHits = 0;
        int exact = 0;
        double rouge = 0;
        int sentences = 0;
        for (int s = 0; s < truth.length; s++) {
            int[] t = realOnly(truth[s], real[s]);
            int[] g = realOnly(guessed[s], real[s]);
            if (t.length == 0) {
                continue;
            }
            sentences++;
            int hits = 0;
            for (int i = 0; i < t.length; i++) {
                hits += t[i] == g[i] ? 1 : 0;
                priorHits += t[i] == prior ? 1 : 0;
            }
            tokens += t.length;
            recovered += hits;
            exact += hits == t.length ? 1 : 0;
            rouge += rougeL(t, g);
        }
        return new Recovery(tokens, recovered, sentences, exact, sentences == 0 ? Double.NaN : rouge / sentences, priorHits);
    }

    /** The most common of {@code tokens} where {@code real}: the frequency prior's guess. */
    public static int mostCommon(int[][] tokens, boolean[][] real) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int s = 0; s < tokens.length; s++) {
            for (int i = 0; i < tokens[s].length; i++) {
                if (real[s][i]) {
                    counts.merge(tokens[s][i], 1, Integer::sum);
                }
            }
        }
        return commonest(counts);
    }

    /** The most common of {@code tokens}. */
    public static int mostCommon(int[] tokens) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int t : tokens) {
            counts.merge(t, 1, Integer::sum);
        }
        return commonest(counts);
    }

    private static int commonest(Map<Integer, Integer> counts) {
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(-1);
    }

    /** ROUGE-L F1 of {@code guess} against {@code truth}: the longest common subsequence's share of each, harmonically averaged. */
    static double rougeL(int[] truth, int[] guess) {
        int[][] lcs = new int[truth.length + 1][guess.length + 1];
        for (int i = 1; i <= truth.length; i++) {
            for (int j = 1; j <= guess.length; j++) {
                lcs[i][j] = truth[i - 1] == guess[j - 1] ? lcs[i - 1][j - 1] + 1 : Math.max(lcs[i - 1][j], lcs[i][j - 1]);
            }
        }
        int l = lcs[truth.length][guess.length];
        if (l == 0) {
            return 0;
        }
        double p = (double) l / guess.length;
        double r = (double) l / truth.length;
        return 2 * p * r / (p + r);
    }

    private static int[] realOnly(int[] values, boolean[] real) {
        int n = 0;
        for (boolean b : real) {
            n += b ? 1 : 0;
        }
        int[] out = new int[n];
        int k = 0;
        for (int i = 0; i < values.length; i++) {
            if (real[i]) {
                out[k++] = values[i];
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return String.format("%d of %d tokens (%.1f%%), %d of %d sentences exact, ROUGE-L %.3f; frequency prior %.1f%%", recovered, tokens,
                100 * tokenRate(), exactSentences, sentences, rougeL, 100 * priorRate());
    }
}
