package io.splitfed.runtime.privacy;

import io.splitfed.model.privacy.CutInversion;
import io.splitfed.model.privacy.Recovery;
import io.splitfed.model.tensor.HostTensor;

import java.util.Arrays;

/**
 * The server's attack on a capture, run as a server would: it fits each {@link CutInversion} on
 * what the same cut and defence make of public text of its own ({@code attacker}, with its own
 * draws), keeps the map and ridge penalty that read back most of a held-back fifth of that text,
 * refits it on all of it, and reads the victims' tokens back.
 */
public final class CutAttack {

    /** Ridge penalties tried. */
    private static final double[] LAMBDAS = {1e-2, 1, 100, 1e4, 1e6};

    private CutAttack() {}

    /** What the attack read of {@code victims}, which map and penalty it chose, and its guess at every position. */
    public record Result(Recovery recovery, CutInversion.Kind kind, double lambda, double heldBackRate, int[][] guessed) {}

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
        CutInversion.Kind bestKind = null;
        double bestLambda = 0;
        double bestRate = -1;
        for (CutInversion.Kind kind : CutInversion.Kind.values()) {
            for (double lambda : LAMBDAS) {
                int[] guessed = CutInversion.fit(kind, Arrays.copyOf(states, fit * hidden), Arrays.copyOf(tokens, fit), Arrays.copyOf(at, fit),
                        positions, hidden, embeddings, lambda).invert(checkStates, checkAt, hidden);
                int hits = 0;
                for (int i = 0; i < guessed.length; i++) {
                    hits += guessed[i] == checkTokens[i] ? 1 : 0;
                }
                double rate = (double) hits / Math.max(1, guessed.length);
                if (rate > bestRate) {
                    bestRate = rate;
                    bestKind = kind;
                    bestLambda = lambda;
                }
            }
        }
        CutInversion inversion = CutInversion.fit(bestKind, states, tokens, at, positions, hidden, embeddings, bestLambda);
        int[][] guessed = new int[victims.states().length][];
        int[] every = new int[victims.length()];
        for (int t = 0; t < every.length; t++) {
            every[t] = t;
        }
        for (int s = 0; s < guessed.length; s++) {
            guessed[s] = inversion.invert(victims.states()[s], every, hidden);
        }
        int prior = Recovery.mostCommon(tokens);
        return new Result(Recovery.score(victims.tokens(), guessed, victims.real(), prior), bestKind, bestLambda, bestRate, guessed);
    }
}
