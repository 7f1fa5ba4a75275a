package io.splitfed.runtime.experiment;

import io.splitfed.actors.metrics.TimelineEvent;

import java.util.List;
import java.util.Map;

/**
 * What one cell produced, as cached on disk: the headline figures and the curves the plots need.
 *
 * @param roundAccuracy evaluation accuracy after each round
 * @param roundSeconds wall-clock seconds at the end of each round, from the job's start
 * @param roundTrainSeconds each round's training time (start until the last device is done)
 * @param roundPredictedSeconds the planner's prediction of each round's training time (NaN: none)
 * @param lossCurve training loss, averaged over windows of steps: {step, loss} pairs
 * @param configKey a digest of the cell's full configuration; a changed setting re-runs the cell
 * @param timeline the pipeline's events over the start of one round, for the Gantt chart
 * @param extra other figures: scores an experiment added (GSM8K's exact match) and the like
 */
public record CellResult(
        String id,
        Map<String, String> labels,
        String configKey,
        double accuracy,
        double evalLoss,
        double wallSeconds,
        long samples,
        double deviceSecondsPerSample,
        double deviceGflopsPerSample,
        double serverSeconds,
        long bytesUp,
        long bytesDown,
        List<Double> roundAccuracy,
        List<Double> roundSeconds,
        List<Double> roundTrainSeconds,
        List<Double> roundPredictedSeconds,
        List<double[]> lossCurve,
        Map<String, Double> extra,
        List<TimelineEvent> timeline) {

    public String label(String key) {
        return labels.getOrDefault(key, "");
    }

    public double extra(String key) {
        return extra.getOrDefault(key, Double.NaN);
    }

    /** Seconds until evaluation accuracy first reached {@code target}, or NaN. */
    public double secondsToAccuracy(double target) {
        for (int i = 0; i < roundAccuracy.size(); i++) {
            if (roundAccuracy.get(i) >= target) {
                return roundSeconds.get(i);
            }
        }
        return Double.NaN;
    }
}
