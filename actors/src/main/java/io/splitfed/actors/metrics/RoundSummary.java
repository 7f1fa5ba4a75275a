package io.splitfed.actors.metrics;

import java.util.List;

/**
 * One closed round, as the coordinator saw it.
 *
 * @param late devices that did not finish before the deadline
 * @param gone devices that stopped or became unreachable
 * @param closedByDeadline whether the deadline, not the last device, closed the round
 * @param seconds the whole round: training, aggregation and evaluation
 * @param trainSeconds from the round's start until it closed for training (the last device done, or the deadline)
 * @param predictedSeconds the planner's prediction of {@code trainSeconds}; NaN when it made none
 * @param benched devices quarantined or benched after this round
 * @param lateApplied results of earlier rounds applied in this one (asynchronous rounds)
 */
public record RoundSummary(
        int round,
        List<Integer> sampled,
        List<Integer> done,
        List<Integer> late,
        List<Integer> gone,
        boolean closedByDeadline,
        boolean aggregated,
        double accuracy,
        double evalLoss,
        double trainLoss,
        long samples,
        double seconds,
        double trainSeconds,
        double predictedSeconds,
        List<Integer> benched,
        int lateApplied) {}
