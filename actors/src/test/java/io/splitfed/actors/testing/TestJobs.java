package io.splitfed.actors.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.JobControl;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.model.testing.SharedData;

import org.apache.pekko.actor.typed.ActorRef;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** Small, fast jobs on the real model and data, for tests. */
public final class TestJobs {

    private TestJobs() {}

    /** A small SST-2 job on stories260K; {@code overrides} are relative to {@code splitfed.job}. */
    public static Config config(Map<String, Object> overrides) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("splitfed.data-root", SharedData.root().toString());
        o.put("splitfed.job.data.train-limit", 256);
        o.put("splitfed.job.data.eval-limit", 64);
        o.put("splitfed.job.data.max-length", 32);
        o.put("splitfed.job.training.micro-batch", 8);
        o.put("splitfed.job.federation.rounds", 2);
        o.put("splitfed.job.federation.epochs", 1);
        o.put("splitfed.job.federation.devices", 2);
        overrides.forEach((k, v) -> o.put("splitfed.job." + k, v));
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : o.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return io.splitfed.actors.job.JobConfig.load(c);
    }

    public static PreparedJob prepare(Config config) {
        return JobPreparation.prepare(JobSpec.fromConfig(config));
    }

    public static JobResult run(Config config) throws Exception {
        return run(prepare(config), config, null);
    }

    public static JobResult run(PreparedJob job, Config config, Consumer<JobEvent> events) throws Exception {
        return TrainingJob.run(job, config, events).result().get(5, TimeUnit.MINUTES);
    }

    /** A fault to inject once, as the job's events come: returns true when it fired. */
    @FunctionalInterface
    public interface Fault {
        boolean apply(JobEvent event, ActorRef<JobControl> control);
    }

    /** Runs {@code config}, letting {@code fault} act on the events until it fires; fails if it never did. */
    public static JobResult runWithFault(Config config, Fault fault) throws Exception {
        PreparedJob job = prepare(config);
        AtomicReference<ActorRef<JobControl>> control = new AtomicReference<>();
        AtomicBoolean fired = new AtomicBoolean();
        CountDownLatch ready = new CountDownLatch(1);
        Consumer<JobEvent> events = e -> {
            try {
                ready.await();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            if (!fired.get() && fault.apply(e, control.get())) {
                fired.set(true);
            }
        };
        TrainingJob.RunningJob running = TrainingJob.runWithFaults(job, config, events);
        control.set(running.control());
        ready.countDown();
        JobResult r = running.result().get(5, TimeUnit.MINUTES);
        assertThat(fired).as("the fault was injected").isTrue();
        return r;
    }
}
