package io.splitfed.actors.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraModule;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * FedAvg weighs by samples, FFA-LoRA averages the product exactly, an update with NaN is left out,
 * and the median and trimmed mean ignore one poisoned update.
 */
class AggregationTest {

    private static final ActorTestKit KIT = ActorTestKit.create();

    @AfterAll
    static void shutdown() {
        KIT.shutdownTestKit();
    }

    private static LoraAdapter adapter(long seed, boolean freezeA) {
        LoraAdapter a = LoraAdapter.init(new LoraConfig(2, 4, 0, LoraTarget.parse("q")),
                List.of(new LoraModule("model.layers.0.self_attn.q_proj", 6, 6)), Map.of("score.weight", new int[] {2, 6}), 7, freezeA);
        SplittableRandom rng = new SplittableRandom(seed);
        for (String key : a.tensors().keySet()) {
            if (freezeA && a.frozen().contains(key)) {
                continue;
            }
            float[] d = a.get(key).data();
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) rng.nextDouble(-1, 1);
            }
        }
        return a;
    }

    @Test
    void fedAvgWeighsBySamples() {
        LoraAdapter x = adapter(1, false);
        LoraAdapter y = adapter(2, false);
        LoraAdapter avg = new WeightedFedAvg().aggregate(List.of(new WeightedUpdate(0, x, 10), new WeightedUpdate(1, y, 30)));
        for (String key : x.tensors().keySet()) {
            float[] a = x.get(key).data();
            float[] b = y.get(key).data();
            float[] m = avg.get(key).data();
            for (int i = 0; i < a.length; i++) {
                assertThat((double) m[i]).isCloseTo(0.25 * a[i] + 0.75 * b[i], org.assertj.core.data.Offset.offset(1e-6));
            }
        }
        assertThat(new WeightedFedAvg().aggregate(List.of(new WeightedUpdate(0, x, 5))).sha256()).isEqualTo(x.sha256());
    }

    @Test
    void ffaLoraAveragesTheProductExactly() {
        LoraAdapter x = adapter(1, true);
        LoraAdapter y = adapter(2, true);
        String a = "model.layers.0.self_attn.q_proj.lora_A.weight";
        String b = "model.layers.0.self_attn.q_proj.lora_B.weight";
        assertThat(x.get(a)).isEqualTo(y.get(a));
        LoraAdapter avg = new FfaLoraAverage().aggregate(List.of(new WeightedUpdate(0, x, 1), new WeightedUpdate(1, y, 1)));
        double[] expected = product(x.get(b), x.get(a));
        double[] other = product(y.get(b), y.get(a));
        double[] got = product(avg.get(b), avg.get(a));
        for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).isCloseTo((expected[i] + other[i]) / 2, org.assertj.core.data.Offset.offset(1e-6));
        }
        LoraAdapter z = adapter(3, false);
        assertThatThrownBy(() -> new FfaLoraAverage().aggregate(List.of(new WeightedUpdate(0, x, 1), new WeightedUpdate(2, z.select(k -> true), 1))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** B (out x r) times A (r x in). */
    private static double[] product(HostTensor bt, HostTensor at) {
        int out = bt.shape()[0];
        int r = bt.shape()[1];
        int in = at.shape()[1];
        double[] p = new double[out * in];
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < r; k++) {
                for (int i = 0; i < in; i++) {
                    p[o * in + i] += (double) bt.data()[o * r + k] * at.data()[k * in + i];
                }
            }
        }
        return p;
    }

    @Test
    void theAggregatorLeavesOutAnUpdateWithNaN() {
        ActorRef<Aggregator.Command> agg = KIT.spawn(Aggregator.create(new WeightedFedAvg()));
        TestProbe<Aggregator.Result> probe = KIT.createTestProbe();
        LoraAdapter good = adapter(1, false);
        LoraAdapter bad = adapter(2, false);
        bad.get("score.weight").data()[3] = Float.NaN;
        agg.tell(new Aggregator.Aggregate(4, List.of(new WeightedUpdate(0, good, 1), new WeightedUpdate(1, bad, 1)), List.of(), probe.getRef()));
        Aggregator.Result reply = probe.expectMessageClass(Aggregator.Result.class);
        assertThat(reply.deviceGlobal().sha256()).isEqualTo(good.sha256());
        assertThat(reply.serverGlobal()).isNull();
        assertThat(reply.notes()).singleElement().asString().contains("from 1").contains("NaN");
    }

    @Test
    void medianAndTrimmedMeanIgnoreOnePoisonedUpdate() {
        List<WeightedUpdate> updates = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            updates.add(new WeightedUpdate(i, adapter(10 + i, false), 100));
        }
        LoraAdapter poisoned = adapter(99, false);
        poisoned.tensors().values().forEach(t -> {
            for (int j = 0; j < t.data().length; j++) {
                t.data()[j] = 1e6f;
            }
        });
        updates.add(new WeightedUpdate(5, poisoned, 10_000));
        for (AggregationStrategy robust : List.of(AggregationStrategy.parse("median"), AggregationStrategy.parse("trimmed-mean:0.2"))) {
            LoraAdapter out = robust.aggregate(updates);
            out.tensors().forEach((k, t) -> {
                for (float v : t.data()) {
                    assertThat(Math.abs(v)).as("%s %s", robust.name(), k).isLessThan(10f);
                }
            });
        }
        float fedavg = new WeightedFedAvg().aggregate(updates).get("score.weight").data()[0];
        assertThat(fedavg).as("plain FedAvg is dragged away").isGreaterThan(1e5f);
        // an honest round: the median of five is the middle value at each position
        LoraAdapter median = new CoordinateMedian(0).aggregate(updates.subList(0, 5));
        float[] at0 = new float[5];
        for (int i = 0; i < 5; i++) {
            at0[i] = updates.get(i).adapter().get("score.weight").data()[0];
        }
        java.util.Arrays.sort(at0);
        assertThat(median.get("score.weight").data()[0]).isEqualTo(at0[2]);
        assertThatThrownBy(() -> AggregationStrategy.parse("trimmed-mean:0.7")).hasMessageContaining("below 0.5");
    }

    @Test
    void aServerStepOfTheDeviceCountAddsTheDevicesChangesUp() {
        LoraAdapter old = adapter(1, false);
        LoraAdapter x = adapter(2, false);
        LoraAdapter y = adapter(3, false);
        LoraAdapter mean = new WeightedFedAvg().aggregate(List.of(new WeightedUpdate(0, x, 1), new WeightedUpdate(1, y, 1)));
        assertThat(ServerStep.apply(old, mean, 1)).isSameAs(mean);
        LoraAdapter summed = ServerStep.apply(old, mean, 2);
        for (String key : old.tensors().keySet()) {
            float[] o = old.get(key).data();
            float[] a = x.get(key).data();
            float[] b = y.get(key).data();
            float[] s = summed.get(key).data();
            for (int i = 0; i < o.length; i++) {
                assertThat(s[i]).as(key).isCloseTo(o[i] + (a[i] - o[i]) + (b[i] - o[i]), org.assertj.core.api.Assertions.within(1e-5f));
            }
        }
    }
}
