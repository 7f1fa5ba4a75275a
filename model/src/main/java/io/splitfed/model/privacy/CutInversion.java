package io.splitfed.model.privacy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorExecutor;

/**
 * An honest-but-curious server's attack on what crosses the cut: from the hidden state at each
 * position back to the token the device put there. The attacker knows the public weights, so it
 * runs the device's blocks (and the defence, whose parameters are public) on public text of its
 * own and fits one of two ridge maps on what it gets:
 * <ul>
 *   <li>{@link Kind#INVERSE}: from a state to its token's input embedding; a victim's state is read
 *       as the vocabulary entry whose embedding lies nearest the map's output;
 *   <li>{@link Kind#TEMPLATE}: from a token's embedding and its position to the state it makes (a
 *       forward model); a victim's state is read as the entry whose template lies nearest it, which
 *       is the best decision under Gaussian noise on the cut, since it weighs every coordinate.
 * </ul>
 * Both work for tokens the attacker never saw: they go through the embeddings, not a class per
 * token. Either can weigh its distance against a prior over tokens (maximum a posteriori): the
 * distance is scaled by the map's own residual variance, as a Gaussian likelihood's exponent, and
 * the prior's log added, so that under heavy noise a state reads as a common token rather than a
 * rare one its noise happens to fall near. All math runs on the tensor thread.
 */
public final class CutInversion {

    /** The two maps. */
    public enum Kind { INVERSE, TEMPLATE }

    /** Rows of victim states scored against the whole vocabulary at once (bounds the score matrix's memory). */
    private static final int DECODE_ROWS = 256;

    private final Kind kind;
    private final int positions;
    /** INVERSE: [hidden + 1, width]; TEMPLATE: [width + positions + 1, hidden]. */
    private final HostTensor map;
    private final HostTensor embeddings;
    /** The map's mean squared residual per output coordinate on its own fit: the likelihood's variance. */
    private final double variance;

    private CutInversion(Kind kind, int positions, HostTensor map, HostTensor embeddings, double variance) {
        this.kind = kind;
        this.positions = positions;
        this.map = map;
        this.embeddings = embeddings;
        this.variance = variance;
    }

    /**
     * Fits a map of {@code kind} on the attacker's {@code states} ([n, hidden], flattened) of input
     * {@code tokens} at {@code at} (positions, below {@code positions}), with ridge penalty
     * {@code lambda}, against {@code embeddings} ([vocab, width]).
     */
    public static CutInversion fit(Kind kind, float[] states, int[] tokens, int[] at, int positions, int hidden, HostTensor embeddings,
            double lambda) {
        int n = tokens.length;
        if ((long) n * hidden != states.length || at.length != n) {
            throw new IllegalArgumentException(states.length + " state values and " + at.length + " positions for " + n + " tokens of " + hidden);
        }
        int width = embeddings.shape()[1];
        double[] variance = new double[1];
        HostTensor map = TensorExecutor.shared().call(() -> {
            try (NDManager m = TensorExecutor.shared().rootManager().newSubManager()) {
                NDArray h = m.create(states, new Shape(n, hidden));
                NDArray e = m.create(embeddings.data(), new Shape(embeddings.shape()[0], width));
                NDArray emb = e.get(new NDIndex("{}", m.create(toLongs(tokens))));
                NDArray x = kind == Kind.INVERSE ? withBias(h) : withBias(emb.concat(oneHot(m, at, positions), 1));
                NDArray y = kind == Kind.INVERSE ? emb : h;
                NDArray gram = x.transpose().matMul(x).add(m.eye((int) x.getShape().get(1)).mul(lambda));
                NDArray w = gram.inverse().matMul(x.transpose().matMul(y));
                NDArray residual = y.sub(x.matMul(w));
                variance[0] = Math.max(1e-12, residual.mul(residual).mean().getFloat());
                return new HostTensor(new int[] {(int) w.getShape().get(0), (int) w.getShape().get(1)}, w.toFloatArray());
            }
        });
        return new CutInversion(kind, positions, map, embeddings, variance[0]);
    }

    /** The token the attack reads at each of {@code states}' positions ([n, hidden], flattened; position {@code at[i]}): the nearest. */
    public int[] invert(float[] states, int[] at, int hidden) {
        return invert(states, at, hidden, null, new double[] {0})[0];
    }

    /**
     * The tokens read under each of {@code weights} on the log prior {@code logPrior} (one value per
     * vocabulary entry; null: no prior, every weight reads the nearest): {@code [weights][n]}.
     * Weight 0 is the plain nearest entry, 1 the maximum a posteriori reading.
     */
    public int[][] invert(float[] states, int[] at, int hidden, float[] logPrior, double[] weights) {
        int n = states.length / hidden;
        int vocab = embeddings.shape()[0];
        int width = embeddings.shape()[1];
        if (logPrior != null && logPrior.length != vocab) {
            throw new IllegalArgumentException("a prior of " + logPrior.length + " tokens for a vocabulary of " + vocab);
        }
        return TensorExecutor.shared().call(() -> {
            int[][] out = new int[weights.length][n];
            try (NDManager m = TensorExecutor.shared().rootManager().newSubManager()) {
                NDArray w = m.create(map.data(), new Shape(map.shape()[0], map.shape()[1]));
                NDArray e = m.create(embeddings.data(), new Shape(vocab, width));
                // what each state is compared with: the embeddings, or every token's template (its embedding's part of the map)
                NDArray targets = kind == Kind.INVERSE ? e : e.matMul(w.get("0:" + width));
                NDArray offsets = kind == Kind.INVERSE ? null : w.get(width + ":" + (width + positions)).add(w.get(width + positions));
                NDArray tt = targets.transpose();
                NDArray norms = targets.mul(targets).sum(new int[] {1});
                NDArray prior = logPrior == null ? null : m.create(logPrior);
                for (int from = 0; from < n; from += DECODE_ROWS) {
                    int rows = Math.min(DECODE_ROWS, n - from);
                    float[] chunk = new float[rows * hidden];
                    System.arraycopy(states, from * hidden, chunk, 0, chunk.length);
                    long[] pos = new long[rows];
                    for (int i = 0; i < rows; i++) {
                        pos[i] = Math.min(at[from + i], positions - 1);
                    }
                    try (NDManager step = m.newSubManager()) {
                        NDArray h = step.create(chunk, new Shape(rows, hidden));
                        NDArray query = kind == Kind.INVERSE ? withBias(h).matMul(w) : h.sub(offsets.get(new NDIndex("{}", step.create(pos))));
                        // the Gaussian log likelihood up to a constant: (2 q.t - |t|^2) / (2 variance)
                        NDArray logLikelihood = query.matMul(tt).mul(2).sub(norms).div(2 * variance);
                        for (int k = 0; k < weights.length; k++) {
                            NDArray score = prior == null || weights[k] == 0 ? logLikelihood : logLikelihood.add(prior.mul(weights[k]));
                            long[] best = score.argMax(1).toLongArray();
                            for (int i = 0; i < rows; i++) {
                                out[k][from + i] = (int) best[i];
                            }
                        }
                    }
                }
            }
            return out;
        });
    }

    private static NDArray oneHot(NDManager m, int[] at, int positions) {
        float[] v = new float[at.length * positions];
        for (int i = 0; i < at.length; i++) {
            v[i * positions + Math.min(at[i], positions - 1)] = 1;
        }
        return m.create(v, new Shape(at.length, positions));
    }

    private static NDArray withBias(NDArray x) {
        return x.concat(x.getManager().ones(new Shape(x.getShape().get(0), 1)), 1);
    }

    private static long[] toLongs(int[] values) {
        long[] out = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
