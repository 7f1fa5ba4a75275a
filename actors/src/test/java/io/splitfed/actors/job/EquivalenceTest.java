package io.splitfed.actors.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.device.DeviceData;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.nn.SplitPoint;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.SegmentLearner;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One device, window 1, a fixed seed: the actor runtime computes exactly what a plain training
 * loop computes, so pipelining, messages and rounds change nothing but the schedule.
 */
class EquivalenceTest {

    private static final Map<String, Object> ONE_DEVICE = Map.of(
            "federation.devices", 1, "pipeline.window", 1, "federation.rounds", 2, "federation.epochs", 2,
            "training.lora.dropout", 0.0, "data.train-limit", 96);

    @Test
    void splitFrozenMatchesCentralizedLoraOnTheSameActivations() throws Exception {
        Config config = TestJobs.config(with(ONE_DEVICE, "mode", "splitfrozen", "federation.split-points", "2"));
        JobResult result = TestJobs.run(config);
        List<Float> runtime = serverLosses(result);

        PreparedJob job = TestJobs.prepare(config);
        JobSpec spec = job.spec();
        int steps = job.stepsPerRound(0) * spec.federation().rounds();
        DeviceData data = job.deviceData().get(0);
        List<Float> reference = TensorExecutor.shared().call(() -> {
            ModelSegment device = ModelSegment.devicePart(job.model(), 2);
            SegmentLearner server = SegmentLearner.create(ModelSegment.serverPart(job.model(), 2, job.head()),
                    new SplitPoint(2).serverSide(job.wholeAdapter()).copy(),
                    new AdamW(spec.training().optimizer(), JobPlan.schedule(spec, steps)), spec.training().backward(), 0);
            List<Float> losses = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                TokenBatch b = job.batcher().apply(data.next());
                TensorPayload acts = SegmentLearner.frozenForward(device, b, TensorPayload.Encoding.F32);
                losses.add(server.trainStep(b.withoutTokens(), acts, null, null).loss());
            }
            return losses;
        });
        assertSameLosses(runtime, reference);
        assertThat(result.deviceStats().stream().mapToInt(s -> s.cachedMicroBatches()).sum())
                .as("second epoch served from the activation cache").isEqualTo(steps / 2);
    }

    @Test
    void sflMatchesMonolithicTrainingWithLoraOnBothSides() throws Exception {
        Config config = TestJobs.config(with(ONE_DEVICE, "mode", "sfl", "federation.split-points", "2"));
        JobResult result = TestJobs.run(config);
        List<Float> runtime = serverLosses(result);

        PreparedJob job = TestJobs.prepare(config);
        JobSpec spec = job.spec();
        int steps = job.stepsPerRound(0) * spec.federation().rounds();
        DeviceData data = job.deviceData().get(0);
        List<Float> reference = TensorExecutor.shared().call(() -> {
            SegmentLearner whole = SegmentLearner.create(ModelSegment.whole(job.model(), job.head()), job.wholeAdapter().copy(),
                    new AdamW(spec.training().optimizer(), JobPlan.schedule(spec, steps)), SegmentLearner.Backward.FUSED, 0);
            List<Float> losses = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                losses.add(whole.trainStep(job.batcher().apply(data.next()), null, null, null).loss());
            }
            return losses;
        });
        assertSameLosses(runtime, reference);
    }

    private static List<Float> serverLosses(JobResult result) {
        List<Float> out = new ArrayList<>();
        for (ShardRoundReport r : result.shardReports()) {
            r.losses().stream().sorted(java.util.Comparator.comparingLong(StepLoss::seq)).forEach(l -> out.add(l.loss()));
        }
        return out;
    }

    private static void assertSameLosses(List<Float> runtime, List<Float> reference) {
        assertThat(runtime).hasSameSizeAs(reference).hasSizeGreaterThan(10);
        for (int i = 0; i < reference.size(); i++) {
            assertThat((double) runtime.get(i)).as("loss of step %d", i).isCloseTo(reference.get(i), org.assertj.core.data.Offset.offset(1e-5));
        }
        assertThat(reference.get(reference.size() - 1)).as("it learns").isLessThan(reference.get(0));
    }

    static Map<String, Object> with(Map<String, Object> base, Object... kv) {
        Map<String, Object> m = new java.util.LinkedHashMap<>(base);
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
