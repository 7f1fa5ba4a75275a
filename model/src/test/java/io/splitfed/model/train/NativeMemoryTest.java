package io.splitfed.model.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.ClassificationHead;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.testing.RandomGpt2;
import io.splitfed.model.testing.TestModels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** 2,000 split training steps, each in its own NDManager scope: native memory must stay flat. */
class NativeMemoryTest {

    @TempDir
    Path tmp;

    @Test
    void twoThousandSplitStepsDoNotGrowNativeMemory() throws Exception {
        Path dir = RandomGpt2.write(tmp.resolve("gpt2"), 300, 64, 2, 4, 64, 4);
        var weights = CheckpointLoader.load(dir);
        long[] samples = TensorExecutor.shared().call(() -> {
            try (TransformerModel model = TransformerModel.create(weights)) {
                Set<LoraTarget> targets = LoraTarget.parse("all");
                ClassificationHead head = new ClassificationHead(2);
                LoraAdapter whole = LoraAdapter.init(new LoraConfig(4, 8, 0.1, targets), model.loraModules(0, 2, targets), head.trainableTensors(model.config()), 1, false);
                io.splitfed.model.nn.SplitPoint split = new io.splitfed.model.nn.SplitPoint(1);
                SegmentLearner device = SegmentLearner.create(ModelSegment.devicePart(model, 1), split.deviceSide(whole).copy(),
                        new AdamW(AdamW.Settings.defaults(), LrSchedule.constant(1e-3)), SegmentLearner.Backward.FUSED, 1);
                SegmentLearner server = SegmentLearner.create(ModelSegment.serverPart(model, 1, head), split.serverSide(whole).copy(),
                        new AdamW(AdamW.Settings.defaults(), LrSchedule.constant(1e-3)), SegmentLearner.Backward.DECOMPOSED, 1);
                long[] out = new long[4];
                for (int step = 0; step < 2000; step++) {
                    TokenBatch batch = TestModels.classificationBatch(300, new int[] {32, 17, 25, 9, 32, 4, 30, 12}, new int[] {0, 1, 0, 1, 1, 0, 0, 1}, step);
                    SegmentLearner.InFlight f = device.forwardForCut(batch, TensorPayload.Encoding.F32);
                    TensorPayload[] cut = new TensorPayload[1];
                    server.trainStep(batch, f.activations(), g -> cut[0] = g, TensorPayload.Encoding.F32);
                    f.backward(cut[0]);
                    if (step % 50 == 0) {
                        server.evaluate(batch, SegmentLearner.frozenForward(ModelSegment.devicePart(model, 1), batch, TensorPayload.Encoding.F32));
                    }
                    if (step == 199) {
                        System.gc();
                        out[0] = nativeBytes();
                        out[1] = TensorExecutor.shared().rootManager().getManagedArrays().size();
                    }
                }
                System.gc();
                out[2] = nativeBytes();
                out[3] = TensorExecutor.shared().rootManager().getManagedArrays().size();
                device.close();
                server.close();
                return out;
            }
        });
        long growthMb = (samples[2] - samples[0]) >> 20;
        System.out.printf("native memory after 200 steps %d MB, after 2000 steps %d MB; live arrays %d -> %d%n",
                samples[0] >> 20, samples[2] >> 20, samples[1], samples[3]);
        assertThat(samples[3]).as("live NDArrays").isEqualTo(samples[1]);
        // the resident set moves with the JIT's code cache and the allocator's arenas too: five runs on 2026-12-07, two at
        // 92f1448 and three at this test's commit, grew 15 to 27 MB with the live arrays unchanged; a leak of one activation
        // per step (64 KB) would add over 110 MB
        assertThat(growthMb).as("native memory growth over 1,800 steps (MB)").isLessThan(40);
    }

    /**
     * Resident set size. The test runs in its own JVM (see model/pom.xml) whose heap is fixed and
     * pre-touched, so after warm-up the resident set moves only with what the engine and direct
     * buffers hold. Run elsewhere with a growing heap, the committed heap is subtracted instead.
     */
    private static long nativeBytes() throws Exception {
        long rssKb = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")))
                .findFirst()
                .orElseThrow();
        var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        boolean fixedHeap = heap.getInit() == heap.getMax();
        return rssKb * 1024 - (fixedHeap ? 0 : heap.getCommitted());
    }
}
