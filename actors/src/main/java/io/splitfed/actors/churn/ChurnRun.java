package io.splitfed.actors.churn;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.metrics.ShardRoundReport;

import com.typesafe.config.Config;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
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
     * @param sentBySurvivors samples the never-killed devices reported sent and answered, by device
     *     (a device still working on its last round when the job ended is left out: its result never came)
     * @param trainedForSurvivors samples the shards trained for those devices, by device
     * @param actions the faults injected, as printed
     */
    public record Outcome(JobResult result, int devicesLost, int deadlineRounds, int lateApplied, Map<Integer, Long> sentBySurvivors,
            Map<Integer, Long> trainedForSurvivors, List<String> actions) {

        /** Whether every sample a surviving device sent was trained exactly once. */
        public boolean exactlyOnce() {
            return sentBySurvivors.equals(trainedForSurvivors);
        }
    }

    public static Outcome run(PreparedJob job, Config config, ChurnPlan plan, Consumer<String> out) throws Exception {
        try (ChurnInjector injector = new ChurnInjector(plan, out)) {
            TrainingJob.RunningJob running = TrainingJob.run(job, config, injector::onEvent);
            injector.attach(running.control());
            JobResult r = running.result().get(60, TimeUnit.MINUTES);
            return outcome(r, plan, injector.done());
        }
    }

    static Outcome outcome(JobResult r, ChurnPlan plan, List<String> actions) {
        TreeSet<Integer> lost = new TreeSet<>();
        int deadline = 0;
        int late = 0;
        for (RoundSummary s : r.rounds()) {
            lost.addAll(s.gone());
            deadline += s.closedByDeadline() ? 1 : 0;
            late += s.lateApplied();
        }
        List<Integer> killed = new java.util.ArrayList<>(plan.killedDevices());
        Map<Integer, Integer> lastSampled = new TreeMap<>();
        Map<Integer, Integer> lastReported = new TreeMap<>();
        r.rounds().forEach(s -> s.sampled().forEach(d -> lastSampled.merge(d, s.round(), Math::max)));
        r.deviceStats().forEach(d -> lastReported.merge(d.device(), d.round(), Math::max));
        lastSampled.forEach((d, round) -> {
            if (lastReported.getOrDefault(d, -1) < round) {
                killed.add(d); // unfinished when the job ended
            }
        });
        Map<Integer, Long> sent = new TreeMap<>();
        Map<Integer, Long> trained = new TreeMap<>();
        for (DeviceRoundStats d : r.deviceStats()) {
            if (!killed.contains(d.device())) {
                sent.merge(d.device(), (long) d.samples(), Long::sum);
            }
        }
        for (ShardRoundReport s : r.shardReports()) {
            s.trainedSamples().forEach((d, n) -> {
                if (!killed.contains(d)) {
                    trained.merge(d, (long) n, Long::sum);
                }
            });
        }
        return new Outcome(r, lost.size(), deadline, late, sent, trained, actions);
    }
}
