package io.splitfed.runtime.privacy;

import io.splitfed.model.privacy.CutInversion;
import io.splitfed.model.privacy.Recovery;
import io.splitfed.model.tensor.HostTensor;

import java.util.Arrays;

/**
 * The server's attack on a capture, run as a server would: it fits each {@link CutInversion} on
 * what the same cut and defence make of public text of its own ({@code attacker}, with its own
 * draws), keeps the map, ridge penalty and weight on its text's token frequencies (the prior of a
 * maximum a posteriori reading) that read back most of a held-back fifth of that text, refits it on
 * all of it, and reads the victims' tokens back.
 */
public final class CutAttack {

    /** Ridge penalties tried. */
    private static final double[] LAMBDAS = {1e-2, 1, 100, 1e4, 1e6};
    /** Weights on the log prior tried: none, and up to twice the posterior's. */
    private static final double[] PRIOR_WEIGHTS = {0, 0.5, 1, 2};

    private CutAttack() {}

    /** What the attack read of {@code victims}, which map and penalty it chose, and its guess at every position. */
    public record Result(Recovery recovery, CutInversion.Kind kind, double lambda, double priorWeight, double heldBackRate, int[][] guessed) {}

    /** What the attack reads of {@code victims}, knowing {@code embeddings} and having fitted on {@code attacker}. */
    public static Result run(CutCapture attacker, CutCapture victims, HostTensor embeddings) {
        CutCapture.RealTokens own = attacker.realTokens();
        float[] states = own.states();
        int[] tokens = own.tokens();
        int[] at = own.positions();
        int hidden = attacker.hidden();
        int positions = Math.max(attacker.length(), victims.length());
        int fit = tokens.length * 4 / 5;
        float[] checkStates = Arrays.copyOfRange(states, fit * hidden, states.length);
        int[] checkTokens = Arrays.copyOfRange(tokens, fit, tokens.length);
        int[] checkAt = Arrays.copyOfRange(at, fit, at.length);
        int vocab = embeddings.shape()[0];
        float[] fitPrior = logPrior(Arrays.copyOf(tokens, fit), vocab);
        CutInversion.Kind bestKind = null;
        double bestLambda = 0;
        double bestWeight = 0;
        double bestRate = -1;
        for (CutInversion.Kind kind : CutInversion.Kind.values()) {
            for (double lambda : LAMBDAS) {
                int[][] guessed = CutInversion.fit(kind, Arrays.copyOf(states, fit * hidden), Arrays.copyOf(tokens, fit), Arrays.copyOf(at, fit),
                        positions, hidden, embeddings, lambda).invert(checkStates, checkAt, hidden, fitPrior, PRIOR_WEIGHTS);
                for (int w = 0; w < PRIOR_WEIGHTS.length; w++) {
                    int hits = 0;
                    for (int i = 0; i < checkTokens.length; i++) {
                        hits += guessed[w][i] == checkTokens[i] ? 1 : 0;
                    }
                    double rate = (double) hits / Math.max(1, checkTokens.length);
                    if (rate > bestRate) {
                        bestRate = rate;
                        bestKind = kind;
                        bestLambda = lambda;
                        bestWeight = PRIOR_WEIGHTS[w];
                    }
                }
            }
        }
        CutInversion inversion = CutInversion.fit(bestKind, states, tokens, at, positions, hidden, embeddings, bestLambda);
        int length = victims.length();
        int sentences = victims.states().length;
        float[] all = new float[sentences * length * hidden];
        int[] every = new int[sentences * length];
        for (int s = 0; s < sentences; s++) {
            System.arraycopy(victims.states()[s], 0, all, s * length * hidden, length * hidden);
            for (int t = 0; t < length; t++) {
                every[s * length + t] = t;
            }
        }
        int[] read = inversion.invert(all, every, hidden, logPrior(tokens, vocab), new double[] {bestWeight})[0];
        int[][] guessed = new int[sentences][];
        for (int s = 0; s < sentences; s++) {
            guessed[s] = Arrays.copyOfRange(read, s * length, (s + 1) * length);
        }
        int prior = Recovery.mostCommon(tokens);
        return new Result(Recovery.score(victims.tokens(), guessed, victims.real(), prior), bestKind, bestLambda, bestWeight, bestRate, guessed);
    }

    /** The log of each token's frequency in {@code tokens}, add-one smoothed over a vocabulary of {@code vocab}. */
    static float[] logPrior(int[] tokens, int vocab) {
        double[] counts = new double[vocab];
        for (int t : tokens) {
            counts[t]++;
        }
        float[] out = new float[vocab];
        double total = tokens.length + (double) vocab;
        for (int v = 0; v < vocab; v++) {
            out[v] = (float) Math.log((counts[v] + 1) / total);
        }
        return out;
    }
}
