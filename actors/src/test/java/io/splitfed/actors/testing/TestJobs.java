package io.splitfed.actors.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.actors.job.TrainingJob;
import io.splitfed.model.testing.SharedData;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
}
