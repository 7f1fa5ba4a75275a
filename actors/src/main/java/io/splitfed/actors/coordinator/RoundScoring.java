package io.splitfed.actors.coordinator;

import io.splitfed.actors.aggregator.WeightedUpdate;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.plan.RoundPlanner;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.train.Evaluation;

import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What a closed round hands the aggregator, and how it is summed up once scored: the device updates
 * (late ones with their staleness weights, distance outliers refused and struck), the shards'
 * replicas, the quarantine's verdicts, and the summary.
 */
final class RoundScoring {

    private RoundScoring() {}

    /** The round's device updates that may be aggregated; outliers are logged, struck and left out. */
    static List<WeightedUpdate> deviceUpdates(int round, RoundLedger ledger, LateWork late, Quarantine quarantine, LoraAdapter global,
            JobSpec.Robustness rules, Logger log) {
        List<WeightedUpdate> device = new ArrayList<>();
        ledger.updates().forEach((d, u) -> device.add(new WeightedUpdate(d, u, ledger.stats().get(d).samples())));
        device.addAll(late.drain(round, rules.stalenessExponent()));
        UpdateCheck.outliers(device, global, rules.normOutlierFactor()).forEach((d, why) -> {
            log.warn("device {}: adapter update for round {} refused: {}", d, round + 1, why);
            quarantine.strike(d);
            device.removeIf(u -> u.source() == d);
        });
        return device;
    }

    /**
     * What the scorer gets for a closed round: its updates, and whether enough devices finished or
     * sent late results ({@code min-devices}) for them to be aggregated at all (if not, the globals
     * stay, and it is logged).
     */
    static RoundScorer.Score score(int round, RoundLedger ledger, LateWork late, Quarantine quarantine, LoraAdapter globalDevice,
            LoraAdapter globalServer, JobSpec spec, Logger log) {
        List<WeightedUpdate> device = deviceUpdates(round, ledger, late, quarantine, globalDevice, spec.robustness(), log);
        int done = ledger.with(RoundLedger.Status.DONE).size();
        // late results that arrived in this round count: their micro-batches trained in it (a round that sampled
        // nobody and stayed open for late work is aggregated like any other)
        int contributed = done + late.applied();
        boolean enough = contributed >= spec.federation().minDevices();
        if (!enough) {
            log.warn("round {}: {} devices finished and {} late results arrived, fewer than min-devices {}; the global adapters stay as they were",
                    round + 1, done, late.applied(), spec.federation().minDevices());
        }
        // the U-shape's tails: each device's head steps on its own share only, so their mean moves less than a head that steps on every share
        double deviceStep = spec.uShape().enabled() ? spec.uShape().tailServerLr() : 1;
        return new RoundScorer.Score(round, device, serverReplicas(ledger), enough, globalDevice, globalServer, deviceStep);
    }

    /** Every shard's adapter replicas, weighted by the samples each trained. */
    static List<WeightedUpdate> serverReplicas(RoundLedger ledger) {
        List<WeightedUpdate> server = new ArrayList<>();
        ledger.shardReports().forEach(sc -> sc.replicas().forEach((key, adapter) ->
                server.add(new WeightedUpdate(key, adapter, sc.weights().getOrDefault(key, 0.0)))));
        return server;
    }

    /** The scored round's summary, after the quarantine has taken in its strikes, failures and finishers. */
    static RoundSummary summarize(int round, Evaluation.Result eval, RoundLedger ledger, LateWork late, Quarantine quarantine,
            Collection<Integer> known, RoundPlanner planner, Logger log) {
        ledger.shardReports().forEach(sc -> quarantine.strikes(sc.report().strikes()));
        List<Integer> failed = new ArrayList<>(ledger.with(RoundLedger.Status.LATE));
        failed.addAll(ledger.with(RoundLedger.Status.GONE));
        List<Integer> benched = quarantine.endRound(round, known, failed, ledger.with(RoundLedger.Status.DONE));
        RoundSummary summary = ledger.summary(eval, benched, late.applied());
        try {
            planner.observe(round, ledger.stats().values(), ledger.shardReports().stream().map(ServerShard.Closed::report).toList());
        } catch (RuntimeException e) {
            log.error("round {}: the planner could not take in the round's timings ({})", round + 1, e.toString());
        }
        log.info("round {} closed: accuracy {} eval loss {} train loss {} ({} samples, {}s{})", round + 1,
                String.format("%.4f", eval.accuracy()), String.format("%.4f", eval.loss()), String.format("%.4f", summary.trainLoss()),
                summary.samples(), String.format("%.1f", summary.seconds()), ledger.closedByDeadline() ? ", by deadline" : "");
        return summary;
    }
}
