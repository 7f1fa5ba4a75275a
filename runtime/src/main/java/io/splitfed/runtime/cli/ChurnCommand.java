package io.splitfed.runtime.cli;

import io.splitfed.actors.chaos.ChurnPlan;
import io.splitfed.actors.chaos.ChurnRun;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.runtime.churn.ClusterChurn;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** Runs a job in this JVM under a seeded schedule of faults, and reports what it did to the job. */
@Command(name = "churn", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train in this JVM while a seeded fault injector kills and restarts devices, slows them down,",
            "kills a server shard, and sends malformed messages. Prints every fault with its time, so a run",
            "can be replayed (--write-schedule, then --schedule), and what the job lost.",
            "With --cluster, the job runs on a cluster of node processes on this machine (a job host, GPU nodes,",
            "an edge node per device), and the faults are SIGKILLs, restarts and SIGSTOP/SIGCONT of those processes."})
public final class ChurnCommand implements Callable<Integer> {

    @Mixin
    JobOptions job;

    @Option(names = "--rate", description = "Share of device-rounds with a fault: half kills, half slowdowns (default: 0.3)")
    double rate = 0.3;

    @Option(names = "--slowdown", description = "How much slower a slowed device runs, compute and link (default: 5)")
    double slowdown = 5;

    @Option(names = "--kill-shard-round", description = "Round (from 1) in which shard 0 loses its node; 0: never (default: 3)")
    int killShardRound = 3;

    @Option(names = "--shard-down", description = "Milliseconds before the killed shard is back (default: 2000)")
    long shardDownMillis = 2000;

    @Option(names = "--malformed-rate", description = "Share of device-rounds that also send a malformed message (default: 0)")
    double malformedRate;

    @Option(names = "--round-ms", description = "About how long a round takes, to spread the kills over it (default: 5000)")
    long roundMillis = 5000;

    @Option(names = "--churn-seed", description = "Seed of the fault schedule (default: 7)")
    long churnSeed = 7;

    @Option(names = "--schedule", description = "Play this schedule (JSON, as --write-schedule writes) instead of drawing one")
    Path schedule;

    @Option(names = "--write-schedule", description = "Write the schedule as JSON, to replay or edit")
    Path writeSchedule;

    @Option(names = "--compare", description = "Also run the same job and seed without churn, and print the accuracy difference")
    boolean compare;

    @Option(names = "--cluster", description = "Run the job on node processes on 127.0.0.1: a job host, --gpu-nodes GPU nodes, an edge node per device")
    boolean cluster;

    @Option(names = "--gpu-nodes", description = "With --cluster: GPU nodes (default: 2)")
    int gpuNodes = 2;

    @Option(names = "--cluster-config", description = "With --cluster: the cluster-config directory the nodes start from (default: splitfed's own)")
    Path clusterConfig;

    @Option(names = "--cluster-dir", description = "With --cluster: where node configs, logs and the job host's outputs go (default: runs/churn-cluster-TIME)")
    Path clusterDir;

    @Option(names = "--timeout-minutes", description = "With --cluster: how long the job may take (default: 60)")
    long timeoutMinutes = 60;

    @Override
    public Integer call() throws Exception {
        var config = job.config();
        JobSpec spec = JobSpec.fromConfig(config);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ChurnPlan plan;
        if (schedule != null) {
            if (!Files.isRegularFile(schedule)) {
                throw new UserError("--schedule " + schedule + ": no such file");
            }
            try {
                plan = json.readValue(schedule.toFile(), ChurnPlan.class);
            } catch (java.io.IOException e) {
                throw new UserError("--schedule " + schedule + ": not a churn schedule (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
        } else {
            plan = ChurnPlan.random(churnSeed, spec.federation().devices(), spec.federation().rounds(),
                    new ChurnPlan.Settings(rate, slowdown, killShardRound - 1, shardDownMillis, roundMillis, malformedRate));
        }
        if (writeSchedule != null) {
            json.writeValue(writeSchedule.toFile(), plan);
            System.out.println("schedule written to " + writeSchedule);
        }
        System.out.printf(Locale.ROOT, "churn: %d faults planned over %d rounds (seed %d)%n", plan.events().size(), spec.federation().rounds(), plan.seed());
        if (cluster) {
            return onCluster(config, spec, plan);
        }
        ChurnRun.Outcome o = ChurnRun.run(JobPreparation.prepare(spec), config, plan, System.out::println);
        JobResult r = o.result();
        report(String.format(Locale.ROOT, "churn: %d rounds in %.0f s", r.rounds().size(), r.wallSeconds()), o.devicesLost(), o.deadlineRounds(),
                o.lateApplied(), o.trainedOnce(), o.answered(), o.trainedTwice(), r.finalAccuracy());
        compareIfAsked(config, spec, r.finalAccuracy());
        return o.exactlyOnce() ? 0 : 1;
    }

    private int onCluster(com.typesafe.config.Config config, JobSpec spec, ChurnPlan plan) throws Exception {
        ClusterChurn.check(plan);
        if (spec.server().shards() > 0 && gpuNodes < 1) {
            throw new UserError("--gpu-nodes " + gpuNodes + ": the job's " + spec.server().shards() + " shards need at least one GPU node");
        }
        boolean killsShard = plan.events().stream().anyMatch(e -> e.action().equals("kill-shard"));
        if (killsShard && gpuNodes < 2) {
            throw new UserError("--gpu-nodes " + gpuNodes + ": the schedule kills a GPU node, so its shards need a second one (--gpu-nodes 2, or --kill-shard-round 0)");
        }
        Path configs = clusterConfig != null ? clusterConfig : Path.of(System.getProperty("splitfed.home", ".")).resolve("cluster-config");
        Path dir = clusterDir != null ? clusterDir
                : Path.of("runs", "churn-cluster-" + java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        ClusterChurn.Outcome o = ClusterChurn.run(config, plan,
                new ClusterChurn.Settings(dir, configs, gpuNodes, TimeUnit.MINUTES.toMillis(timeoutMinutes),
                        System.getProperty("splitfed.home") == null ? java.util.List.of() : java.util.List.of("-Dsplitfed.home=" + System.getProperty("splitfed.home"))), System.out::println);
        report(String.format(Locale.ROOT, "churn on a cluster: %d rounds in %.0f s (node logs and outputs in %s)", o.metrics().get("rounds").size(),
                o.metrics().get("wall_seconds").asDouble(), dir), o.devicesKilled(), o.deadlineRounds(), o.lateApplied(), o.trainedOnce(), o.answered(),
                o.trainedTwice(), o.accuracy());
        compareIfAsked(config, spec, o.accuracy());
        return o.exactlyOnce() ? 0 : 1;
    }

    /** What the churn did to the job, in the same lines in one JVM and on a cluster. */
    private static void report(String heading, int devicesLost, int deadlineRounds, int lateApplied, long trainedOnce, long answered,
            long trainedTwice, double accuracy) {
        System.out.printf(Locale.ROOT, "%n== %s%n", heading);
        System.out.printf(Locale.ROOT, "devices lost                %d%n", devicesLost);
        System.out.printf(Locale.ROOT, "rounds closed by deadline   %d%n", deadlineRounds);
        System.out.printf(Locale.ROOT, "late results applied        %d%n", lateApplied);
        System.out.printf(Locale.ROOT, "micro-batches trained once  %d of %d answered, %d trained twice%s%n", trainedOnce, answered, trainedTwice,
                trainedOnce == answered && trainedTwice == 0 ? "" : " (MISMATCH)");
        System.out.printf(Locale.ROOT, "final accuracy              %.2f%%%n", 100 * accuracy);
    }

    private void compareIfAsked(com.typesafe.config.Config config, JobSpec spec, double accuracy) throws Exception {
        if (compare) {
            JobResult calm = TrainingJob.run(JobPreparation.prepare(spec), config, null).result().get(24, TimeUnit.HOURS);
            System.out.printf(Locale.ROOT, "without churn               %.2f%% (%+.2f points with churn)%n", 100 * calm.finalAccuracy(),
                    100 * (accuracy - calm.finalAccuracy()));
        }
    }
}
