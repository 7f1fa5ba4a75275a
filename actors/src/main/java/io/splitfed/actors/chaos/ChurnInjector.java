package io.splitfed.actors.chaos;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.job.JobControl;
import io.splitfed.actors.job.TrainingJob;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Plays a {@link ChurnPlan} against a running job: when a round starts, its faults are scheduled
 * at their offsets and sent to the job's control channel. Every fault is reported, with the time
 * since the job started, to {@code out} and kept in {@link #done}, so a run can be replayed. A fault
 * whose round closed before its time is not sent; it is reported as skipped and kept in
 * {@link #skipped}.
 */
public final class ChurnInjector implements AutoCloseable {

    private final ChurnPlan plan;
    private final Consumer<String> out;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "splitfed-churn");
        t.setDaemon(true);
        return t;
    });
    private final List<String> done = Collections.synchronizedList(new ArrayList<>());
    private final List<String> skipped = Collections.synchronizedList(new ArrayList<>());
    private final long start = System.nanoTime();
    private volatile TrainingJob.RunningJob control;
    private volatile int currentRound = -1;

    public ChurnInjector(ChurnPlan plan, Consumer<String> out) {
        this.plan = plan;
        this.out = out;
    }

    /** The job's control channel; events before it is set are played once it is. */
    public void attach(TrainingJob.RunningJob control) {
        this.control = control;
    }

    /** Feed the job's events here. */
    public void onEvent(JobEvent e) {
        if (e instanceof JobEvent.RoundStarted s && s.round() > currentRound) {
            currentRound = s.round();
            for (ChurnEvent ev : plan.of(s.round())) {
                timer.schedule(() -> fire(ev), ev.atMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    private void fire(ChurnEvent e) {
        TrainingJob.RunningJob c = control;
        if (c == null || currentRound != e.round()) {
            String line = String.format(Locale.ROOT, "churn %8.3f s  skipped (round %d is over): %s", (System.nanoTime() - start) / 1e9,
                    e.round() + 1, e);
            skipped.add(line);
            out.accept(line);
            return;
        }
        JobControl msg = switch (e.action()) {
            case "kill-device" -> new JobControl.StopDevice(e.target());
            case "restart-device" -> new JobControl.RestartDevice(e.target());
            case "slow-device" -> new JobControl.SlowDevice(e.target(), e.value());
            case "kill-shard" -> new JobControl.KillShard(e.target(), (long) e.value());
            case "link-latency" -> new JobControl.LinkFault(e.target(), (long) e.value(), 0);
            case "cut-link" -> new JobControl.LinkFault(e.target(), 0, (long) e.value());
            case "malformed" -> new JobControl.SendMalformed(Malformed.parse(e.detail()), e.target(), e.round(), plan.seed() + e.hashCode());
            default -> null;
        };
        if (msg == null) {
            return;
        }
        c.send(msg);
        String line = String.format(Locale.ROOT, "churn %8.3f s  %s", (System.nanoTime() - start) / 1e9, e);
        done.add(line);
        out.accept(line);
    }

    /** What was done, in order. */
    public List<String> done() {
        synchronized (done) {
            return List.copyOf(done);
        }
    }

    /** Faults not sent because their round had closed, in order. */
    public List<String> skipped() {
        synchronized (skipped) {
            return List.copyOf(skipped);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
