package io.splitfed.runtime.privacy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A curious server's attacks on the labels of a U-shaped split, from the gradients it gets back at
 * its output (Li et al., "Label Leakage and Protection in Two-party Split Learning", 2022):
 * <ul>
 *   <li>the norm attack scores each example by its gradient's norm (confident examples of one class
 *       send small gradients); scored in whichever orientation reads better;
 *   <li>the direction attack knows one example's label per micro-batch and scores every other
 *       example of the batch by its gradient's cosine with that one's: in binary classification
 *       they point the same way exactly when the labels agree;
 *   <li>the projection attack scores them by their gradient's projection on that one's instead,
 *       the cosine times the norm. Against noise that flips small gradients more often than large
 *       ones (the scale's sign is likelier to flip where it is small, and a norm floor drowns the
 *       small ones) it trusts the large, whose signs hold.
 * </ul>
 * Each is scored by its AUC for label 1 against the rest: 0.5 is a coin, 1.0 reads every label.
 */
public final class LabelAttack {

    private LabelAttack() {}

    /** One example as the server saw it: its gradient summed over positions, its (true) label, and its micro-batch. */
    public record Observed(float[] gradient, int label, int batch) {}

    public record Result(double normAuc, double directionAuc, double projectionAuc, int examples) {

        /** The best of the three: what the server reads of the labels with these attacks. */
        public double bestAuc() {
            return Math.max(normAuc, Math.max(directionAuc, projectionAuc));
        }
    }

    public static Result run(List<Observed> seen) {
        double[] norms = new double[seen.size()];
        int[] labels = new int[seen.size()];
        for (int i = 0; i < seen.size(); i++) {
            norms[i] = Math.sqrt(dot(seen.get(i).gradient(), seen.get(i).gradient()));
            labels[i] = seen.get(i).label() == 1 ? 1 : 0;
        }
        double norm = auc(norms, labels);
        Map<Integer, List<Observed>> batches = new LinkedHashMap<>();
        seen.forEach(o -> batches.computeIfAbsent(o.batch(), b -> new ArrayList<>()).add(o));
        List<Double> scores = new ArrayList<>();
        List<Double> projections = new ArrayList<>();
        List<Integer> truth = new ArrayList<>();
        for (List<Observed> batch : batches.values()) {
            Observed known = batch.get(0);
            double sign = known.label() == 1 ? 1 : -1;
            double knownNorm = Math.sqrt(dot(known.gradient(), known.gradient()));
            for (Observed o : batch.subList(1, batch.size())) {
                double n = Math.sqrt(dot(o.gradient(), o.gradient())) * knownNorm;
                double d = dot(o.gradient(), known.gradient());
                scores.add(n == 0 ? 0 : sign * d / n);
                projections.add(knownNorm == 0 ? 0 : sign * d / knownNorm);
                truth.add(o.label() == 1 ? 1 : 0);
            }
        }
        int[] agree = truth.stream().mapToInt(Integer::intValue).toArray();
        double direction = auc(scores.stream().mapToDouble(Double::doubleValue).toArray(), agree);
        double projection = auc(projections.stream().mapToDouble(Double::doubleValue).toArray(), agree);
        return new Result(Math.max(norm, 1 - norm), direction, projection, seen.size());
    }

    /** The area under the ROC curve of {@code scores} for {@code labels} 1 (Mann-Whitney, ties counted half). */
    static double auc(double[] scores, int[] labels) {
        long positives = 0;
        long negatives = 0;
        for (int l : labels) {
            positives += l == 1 ? 1 : 0;
            negatives += l == 1 ? 0 : 1;
        }
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        double rankSum = 0;
        for (int i = 0; i < order.length;) {
            int j = i;
            while (j < order.length && scores[order[j]] == scores[order[i]]) {
                j++;
            }
            double rank = (i + 1 + j) / 2.0; // ranks i+1..j share their mean
            for (int k = i; k < j; k++) {
                rankSum += labels[order[k]] == 1 ? rank : 0;
            }
            i = j;
        }
        return (rankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
