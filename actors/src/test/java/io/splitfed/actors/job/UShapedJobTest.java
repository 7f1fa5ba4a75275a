package io.splitfed.actors.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.SeenGradient;
import io.splitfed.actors.metrics.ShardRoundReport;
import io.splitfed.actors.testing.TestJobs;
import io.splitfed.model.nn.SplitPoint;
import io.splitfed.model.tokenizer.SequenceEncoder;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The U-shaped split as a whole job on real data: the devices keep the head, the loss and their
 * tail blocks and train them, the server trains the middle blocks on labels it never gets, every
 * micro-batch is trained once, and the global adapters are averaged on each side. Without label
 * noise, the gradients the server gets back give every label away (within a micro-batch, two
 * examples' gradients point the same way exactly when their labels agree); with the device's label
 * noise, that agreement is near a coin's. In SFL the devices' blocks before the cut train too, on
 * the cut gradient the server returns once the device's gradient at its output has come back.
 */
class UShapedJobTest {

    private static Map<String, Object> uShape(int tailBlocks, double labelNoise) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("mode", "splitfrozen");
        o.put("federation.devices", 2);
        o.put("federation.split-points", "1");
        o.put("privacy.u-shape.enabled", true);
        o.put("privacy.u-shape.tail-blocks", tailBlocks);
        o.put("privacy.u-shape.label-noise", labelNoise);
        o.put("privacy.u-shape.norm-floor", 0);
        o.put("privacy.u-shape.record-gradients", true);
        o.put("seed", 3);
        return o;
    }

    /** The share of pairs of examples in one micro-batch whose returned gradients point the same way exactly when their labels agree. */
    private static double directionAgreement(JobResult r, Map<Long, Integer> labels) {
        Map<String, List<SeenGradient>> batches = new LinkedHashMap<>();
        r.shardReports().stream().flatMap(s -> s.seenGradients().stream())
                .forEach(g -> batches.computeIfAbsent(g.device() + "/" + g.round() + "/" + g.seq(), k -> new ArrayList<>()).add(g));
        int pairs = 0;
        int agree = 0;
        for (List<SeenGradient> batch : batches.values()) {
            for (int i = 0; i < batch.size(); i++) {
                for (int j = i + 1; j < batch.size(); j++) {
                    double dot = 0;
                    for (int k = 0; k < batch.get(i).summed().length; k++) {
                        dot += (double) batch.get(i).summed()[k] * batch.get(j).summed()[k];
                    }
                    boolean same = labels.get(batch.get(i).sampleId()).equals(labels.get(batch.get(j).sampleId()));
                    agree += (dot > 0) == same ? 1 : 0;
                    pairs++;
                }
            }
        }
        assertThat(pairs).as("pairs of examples the server got gradients for").isGreaterThan(100);
        return (double) agree / pairs;
    }

    @Test
    void theDevicesKeepTheLossAndTheServerTrainsTheMiddleOnGradientsThatGiveItNoLabelUnderNoise() throws Exception {
        Config config = TestJobs.config(uShape(0, 0));
        PreparedJob job = TestJobs.prepare(config);
        Map<Long, Integer> labels = new HashMap<>();
        job.deviceData().forEach(d -> d.examples().forEach((SequenceEncoder.Encoded e) -> labels.put(e.sampleId(), e.label())));
        JobResult r = TestJobs.run(job, config, null);

        int layers = job.model().numLayers();
        assertThat(r.serverAdapter().tensors().keySet()).isNotEmpty()
                .allSatisfy(k -> assertThat(SplitPoint.layerOf(k)).as(k).isBetween(1, layers - 1));
        assertThat(r.deviceAdapter().tensors().keySet()).as("the head's weights, on the devices").isNotEmpty()
                .allSatisfy(k -> assertThat(SplitPoint.layerOf(k)).as(k).isEqualTo(-1));
        for (DeviceRoundStats d : r.deviceStats()) {
            int trained = r.shardReports().stream().filter(s -> s.round() == d.round())
                    .mapToInt(s -> s.trainedSamples().getOrDefault(d.device(), 0)).sum();
            assertThat(trained).as("device %d round %d: every micro-batch trained once", d.device(), d.round()).isEqualTo(d.samples()).isPositive();
            assertThat(d.localLosses()).as("the loss is computed on the device").hasSize(d.microBatches());
        }
        assertThat(r.shardReports()).allSatisfy(s -> assertThat(s.losses()).as("the server computes no loss").isEmpty());
        int samples = r.shardReports().stream().mapToInt(s -> s.trainedSamples().values().stream().mapToInt(Integer::intValue).sum()).sum();
        assertThat(r.shardReports().stream().mapToInt((ShardRoundReport s) -> s.seenGradients().size()).sum()).isEqualTo(samples);
        assertThat(directionAgreement(r, labels)).as("without noise, the returned gradients give the labels away").isGreaterThan(0.97);

        JobResult noisy = TestJobs.run(TestJobs.config(uShape(0, 2)));
        assertThat(directionAgreement(noisy, labels)).as("under label noise 2, about 43% of pairs have one sign flipped").isBetween(0.45, 0.72);
    }

    @Test
    void aTailBlockStaysOnTheDeviceAndTheJobRefusesWhatItCannotRun() throws Exception {
        JobResult r = TestJobs.run(TestJobs.config(uShape(1, 2)));
        int last = TestJobs.prepare(TestJobs.config(uShape(1, 2))).model().numLayers() - 1;
        assertThat(r.deviceAdapter().tensors().keySet()).anyMatch(k -> SplitPoint.layerOf(k) == last).anyMatch(k -> SplitPoint.layerOf(k) == -1);
        assertThat(r.serverAdapter().tensors().keySet()).noneMatch(k -> SplitPoint.layerOf(k) == last);

        Map<String, Object> fedLora = new LinkedHashMap<>(uShape(1, 2));
        fedLora.put("mode", "fedlora");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestJobs.prepare(TestJobs.config(fedLora)))
                .hasMessageContaining("privacy.u-shape is offered for the split modes (splitfrozen, sfl), not fedlora");
        Map<String, Object> tooLong = new LinkedHashMap<>(uShape(last, 2));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestJobs.prepare(TestJobs.config(tooLong)))
                .hasMessageContaining("privacy.u-shape.tail-blocks = " + last + " leaves the server none of blocks 1..");
    }

    @Test
    void inSflTheDevicesTrainTheirBlocksOnTheCutGradientAndTheirTailOnTheServersOutput() throws Exception {
        Map<String, Object> o = new LinkedHashMap<>(uShape(1, 0));
        o.put("mode", "sfl");
        Config config = TestJobs.config(o);
        PreparedJob job = TestJobs.prepare(config);
        Map<Long, Integer> labels = new HashMap<>();
        job.deviceData().forEach(d -> d.examples().forEach((SequenceEncoder.Encoded e) -> labels.put(e.sampleId(), e.label())));
        JobResult r = TestJobs.run(job, config, null);

        int last = job.model().numLayers() - 1;
        assertThat(r.deviceAdapter().tensors().keySet()).as("the blocks before the cut, the tail block and the head, on the devices")
                .anyMatch(k -> SplitPoint.layerOf(k) == 0).anyMatch(k -> SplitPoint.layerOf(k) == last).anyMatch(k -> SplitPoint.layerOf(k) == -1)
                .allSatisfy(k -> assertThat(SplitPoint.layerOf(k)).as(k).isIn(-1, 0, last));
        assertThat(r.serverAdapter().tensors().keySet()).isNotEmpty().allSatisfy(k -> assertThat(SplitPoint.layerOf(k)).as(k).isBetween(1, last - 1));
        var before = new SplitPoint(1).deviceSide(job.wholeAdapter());
        var after = new SplitPoint(1).deviceSide(r.deviceAdapter());
        assertThat(after.maxAbsDiff(before)).as("the device's block 0 trained on the cut gradients that came back").isGreaterThan(1e-4);
        for (DeviceRoundStats d : r.deviceStats()) {
            int trained = r.shardReports().stream().filter(s -> s.round() == d.round())
                    .mapToInt(s -> s.trainedSamples().getOrDefault(d.device(), 0)).sum();
            assertThat(trained).as("device %d round %d: every micro-batch trained once", d.device(), d.round()).isEqualTo(d.samples()).isPositive();
            assertThat(d.localLosses()).as("the loss is computed on the device").hasSize(d.microBatches());
            assertThat(d.bytesDown()).as("device %d round %d: the server's outputs and the cut gradients came down", d.device(), d.round()).isPositive();
        }
        assertThat(r.shardReports()).allSatisfy(s -> assertThat(s.losses()).as("the server computes no loss").isEmpty());
        assertThat(directionAgreement(r, labels)).as("without noise, the returned gradients give the labels away here too").isGreaterThan(0.97);
    }
}
