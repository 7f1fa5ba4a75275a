package io.splitfed.actors.chaos;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.actors.metrics.ExactlyOnce;
import io.splitfed.actors.metrics.RoundSummary;

import com.typesafe.config.Config;

import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A job run in this JVM under a churn plan, and the figures a churn soak reports. */
public final class ChurnRun {

    private ChurnRun() {}

    /**
     * What the churn did to the job.
     *
     * @param devicesLost devices that stopped during a round (killed)
     * @param deadlineRounds rounds closed by their deadline
     * @param lateApplied results of earlier rounds applied late
     * @param answered micro-batches the devices were answered for, as their round reports say (a
     *     killed device's unreported round and a round its lost shard made it run again are not in them)
     * @param trainedOnce of those, the ones the shards' reports show trained exactly once
     * @param trainedTwice micro-batches any shard trained more than once
     * @param actions the faults injected, as printed
     * @param skipped the faults not injected because their round closed first
     * @param shardsReplaced each shard that came back after losing its node, as the coordinator announced it
     */
    public record Outcome(JobResult result, int devicesLost, int deadlineRounds, int lateApplied, long answered, long trainedOnce,
            long trainedTwice, List<String> actions, List<String> skipped, List<JobEvent.ShardReplaced> shardsReplaced) {

        /** Whether every micro-batch a device was answered for was trained exactly once. */
        public boolean exactlyOnce() {
            return answered == trainedOnce && trainedTwice == 0;
        }
    }

    public static Outcome run(PreparedJob job, Config config, ChurnPlan plan, Consumer<String> out) throws Exception {
        try (ChurnInjector injector = new ChurnInjector(plan, out)) {
            List<JobEvent.ShardReplaced> replaced = new CopyOnWriteArrayList<>();
            TrainingJob.RunningJob running = TrainingJob.runWithFaults(job, config, e -> {
                if (e instanceof JobEvent.ShardReplaced s) {
                    replaced.add(s);
                }
                injector.onEvent(e);
            });
            injector.attach(running);
            JobResult r = running.result().get(60, TimeUnit.MINUTES);
            return outcome(r, injector.done(), injector.skipped(), List.copyOf(replaced));
        }
    }

    /** Counts, micro-batch by micro-batch, what the devices were answered for against what the shards trained. */
    static Outcome outcome(JobResult r, List<String> actions, List<String> skipped, List<JobEvent.ShardReplaced> replaced) {
        TreeSet<Integer> lost = new TreeSet<>();
        int deadline = 0;
        int late = 0;
        for (RoundSummary s : r.rounds()) {
            lost.addAll(s.gone());
            deadline += s.closedByDeadline() ? 1 : 0;
            late += s.lateApplied();
        }
        ExactlyOnce counted = ExactlyOnce.of(r);
        return new Outcome(r, lost.size(), deadline, late, counted.answered(), counted.trainedOnce(), counted.trainedTwice(), actions, skipped,
                replaced);
    }
}
