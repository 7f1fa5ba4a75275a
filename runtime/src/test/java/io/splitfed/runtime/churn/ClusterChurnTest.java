package io.splitfed.runtime.churn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.actors.chaos.ChurnEvent;
import io.splitfed.actors.chaos.ChurnPlan;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.model.testing.SharedData;
import io.splitfed.runtime.cli.UserError;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The churn schedule on a cluster of processes (issue 14, must-show 6): a job host, two GPU nodes
 * and four edge nodes of one device each, every one a {@code splitfed node} JVM; 30% of
 * device-rounds killed (SIGKILL, restarted next round) or slowed 5x (SIGSTOP/SIGCONT), and a GPU
 * node killed in round 3 and started again. Node logs in {@code target/cluster-churn/}.
 */
@Tag("cluster")
class ClusterChurnTest {

    private static final int ROUNDS = 8;

    private static Config job() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("mode", "splitfrozen");
        o.put("federation.devices", 4);
        o.put("server.shards", 2);
        o.put("federation.rounds", ROUNDS);
        o.put("federation.epochs", ROUNDS);
        o.put("data.train-limit", 800);
        o.put("data.eval-limit", 400);
        o.put("data.max-length", 32);
        o.put("training.micro-batch", 8);
        o.put("server.mix-devices", 1);
        o.put("pipeline.activation-cache", false);
        o.put("pipeline.ack-timeout", "5s");
        o.put("federation.round-deadline", "12s"); // a fault-free round takes about 6 s on the 2-core machine
        o.put("robustness.late-updates", "apply");
        o.put("seed", 7);
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("splitfed.data-root", SharedData.root().toString());
        o.forEach((k, v) -> all.put("splitfed.job." + k, v));
        return JobConfig.load(com.typesafe.config.ConfigFactory.parseMap(all));
    }

    @Test
    void killsRestartsAndSlowsNodeProcessesAndEveryAnsweredMicroBatchIsTrainedOnce() throws Exception {
        Config config = job();
        ChurnPlan plan = ChurnPlan.random(7, 4, ROUNDS, new ChurnPlan.Settings(0.3, 5, 2, 3000, 4000, 0));
        assertThat(plan.events()).anyMatch(e -> e.action().equals("kill-device")).anyMatch(e -> e.action().equals("slow-device"))
                .anyMatch(e -> e.action().equals("kill-shard"));
        Path dir = Files.createDirectories(Path.of("target", "cluster-churn", Long.toString(System.currentTimeMillis())));
        Path configs = Path.of(System.getProperty("user.dir")).resolve("../cluster-config").normalize();
        ClusterChurn.Outcome o = ClusterChurn.run(config, plan, new ClusterChurn.Settings(dir, configs, 2, TimeUnit.MINUTES.toMillis(15),
                List.of("-Xmx1g", "-Dlogback.configurationFile=" + Path.of("target/classes/logback.xml").toAbsolutePath())), System.out::println);

        JobResult calm = TrainingJob.run(JobPreparation.prepare(JobSpec.fromConfig(config)), config, null).result().get(10, TimeUnit.MINUTES);
        System.out.printf("cluster churn: devices killed %d, rounds closed by deadline %d, late results applied %d, exactly once %d of %d (%d twice), "
                        + "accuracy %.4f against %.4f calm%n", o.devicesKilled(), o.deadlineRounds(), o.lateApplied(), o.trainedOnce(), o.answered(),
                o.trainedTwice(), o.accuracy(), calm.finalAccuracy());

        assertThat(o.metrics().get("rounds")).as("every round closed").hasSize(ROUNDS);
        assertThat(o.actions()).as("the faults played").anyMatch(a -> a.contains("kill device")).anyMatch(a -> a.contains("restart device"))
                .anyMatch(a -> a.contains("slow device")).anyMatch(a -> a.contains("kill GPU node"));
        assertThat(o.devicesKilled()).isPositive();
        assertThat(o.answered()).as("micro-batches answered").isPositive();
        assertThat(o.trainedTwice()).as("micro-batches trained twice").isZero();
        assertThat(o.trainedOnce()).as("every answered micro-batch trained exactly once").isEqualTo(o.answered());
        // stories260K sits near chance on SST-2, where two runs differ by a few points whatever happens to them: this
        // check only catches a job that churn broke (the in-process ChurnSoakTest compares accuracies on MiniLM)
        assertThat(100 * (o.accuracy() - calm.finalAccuracy())).as("accuracy lost to churn, in points against the calm run").isGreaterThanOrEqualTo(-5.0);
    }

    @Test
    void refusesFaultsThatOnlyTheInProcessInjectorCanPlay() {
        ChurnPlan plan = new ChurnPlan(1, List.of(new ChurnEvent(0, 10, "malformed", 0, 0, "nan"), new ChurnEvent(0, 10, "cut-link", 1, 500, "")));
        assertThatThrownBy(() -> ClusterChurn.check(plan)).isInstanceOf(UserError.class).hasMessageContaining("[malformed, cut-link]")
                .hasMessageContaining("in-process injector");
    }
}
