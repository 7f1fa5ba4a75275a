package io.splitfed.runtime.bench;

import io.splitfed.actors.chaos.ChurnPlan;
import io.splitfed.actors.chaos.ChurnRun;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.job.TrainingJob;

import com.typesafe.config.Config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The churn soak, long: 8 SplitFrozen devices on 2 Mbit/s links, 30% of device-rounds killed or
 * slowed 5x, shard 0's node killed in round 3 and back 2 s later, late work applied when it comes.
 * Set beside the same job and seed without churn.
 */
public final class ChurnSuite implements BenchSuite {

    @Override
    public String name() {
        return "churn";
    }

    @Override
    public String description() {
        return "churn soak: 8 devices, 30% of device-rounds killed or slowed 5x, a shard's node killed; against the calm run";
    }

    static Map<String, Object> soak(boolean quick) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("mode", "splitfrozen");
        o.put("federation.devices", 8);
        o.put("server.shards", 2);
        o.put("federation.rounds", quick ? 4 : 8);
        o.put("federation.epochs", quick ? 2 : 3);
        o.put("data.train-limit", quick ? 4000 : 12000);
        o.put("data.eval-limit", 1000);
        o.put("links.enabled", true);
        o.put("links.uplink-mbps", 8);
        o.put("links.latency", "5ms");
        o.put("federation.round-deadline", quick ? "30s" : "60s");
        o.put("pipeline.ack-timeout", "3s");
        o.put("robustness.late-updates", "apply");
        return o;
    }

    @Override
    public List<Comparison> run(boolean quick) throws Exception {
        Config config = JobConfig.load(JobConfig.jobSettings(soak(quick)));
        PreparedJob job = JobPreparation.prepare(JobSpec.fromConfig(config));
        int rounds = job.spec().federation().rounds();
        JobResult calm = TrainingJob.run(job, config, null).result().get(2, TimeUnit.HOURS);
        double roundMillis = calm.rounds().stream().mapToDouble(r -> r.trainSeconds()).average().orElse(5) * 1000;
        ChurnPlan plan = ChurnPlan.random(7, 8, rounds, new ChurnPlan.Settings(0.3, 5, 2, 2000, (long) roundMillis, 0));
        ChurnRun.Outcome o = ChurnRun.run(JobPreparation.prepare(JobSpec.fromConfig(config)), config, plan, line -> System.err.println(line));
        double diff = 100 * (o.result().finalAccuracy() - calm.finalAccuracy());
        System.err.printf(Locale.ROOT, "churn soak: devices lost %d, rounds closed by deadline %d, late results applied %d, "
                        + "accuracy %.1f%% vs %.1f%% calm (%+.1f points), micro-batches trained exactly once %d of %d answered, %d trained twice%n",
                o.devicesLost(), o.deadlineRounds(), o.lateApplied(), 100 * o.result().finalAccuracy(), 100 * calm.finalAccuracy(), diff,
                o.trainedOnce(), o.answered(), o.trainedTwice());
        return List.of(
                new Comparison(name(), "accuracy under churn (" + o.devicesLost() + " devices lost, " + o.deadlineRounds() + " rounds closed by deadline, "
                        + o.lateApplied() + " late results applied)", 100 * o.result().finalAccuracy(), "%", "the calm run", 100 * calm.finalAccuracy(), "%", true),
                new Comparison(name(), "answered micro-batches trained exactly once", o.trainedOnce(), "micro-batches", "micro-batches answered",
                        o.answered(), "micro-batches", true),
                new Comparison(name(), "wall time under churn", o.result().wallSeconds(), "s", "the calm run", calm.wallSeconds(), "s", false));
    }
}
