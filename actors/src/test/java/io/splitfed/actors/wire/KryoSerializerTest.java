package io.splitfed.actors.wire;

import io.splitfed.actors.aggregator.Aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Every wire message round-trips through the serializer Pekko picks for it, and it is ours. */
class KryoSerializerTest {

    static ActorTestKit kit;
    static Serialization serialization;

    @BeforeAll
    static void start() {
        kit = ActorTestKit.create("wire", ConfigFactory.parseString("pekko.actor.provider = cluster\n"
                + "pekko.remote.artery.canonical.port = 0\npekko.remote.artery.canonical.hostname = 127.0.0.1").withFallback(ConfigFactory.load()));
        serialization = SerializationExtension.get(Adapter.toClassic(kit.system()));
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    private static Object roundTrip(Object message) {
        var serializer = serialization.findSerializerFor(message);
        assertThat(serializer).isInstanceOf(KryoSerializer.class);
        byte[] bytes = serialization.serialize(message).get();
        return serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message)).get();
    }

    @Test
    void aForwardWithActivationsAndARefRoundTrips() {
        TestProbe<ServerShard.Reply> device = kit.createTestProbe();
        float[] v = new float[4 * 7 * 16];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(i);
        }
        TokenBatch batch = new TokenBatch(4, 7, null, new int[] {7, 3, 5, 1}, new int[] {0, 1, 1, 0}, null, null, new long[] {10, 11, 12, 13});
        var f = new ServerShard.Forward(3, 1, 2, 41L, 9, batch, WireCodec.f32(v, 4, 7, 16), 1234L, device.getRef());
        var back = (ServerShard.Forward) roundTrip(f);
        assertThat(back.device()).isEqualTo(3);
        assertThat(back.seq()).isEqualTo(41L);
        assertThat(back.batch().lengths()).containsExactly(7, 3, 5, 1);
        assertThat(back.batch().labels()).containsExactly(0, 1, 1, 0);
        assertThat(back.batch().ids()).isNull();
        assertThat(WireCodec.toFloats(back.activations())).containsExactly(v);
        assertThat(back.replyTo()).isEqualTo(device.getRef());
        back.replyTo().tell(new ServerShard.Credit(2, 41L, 5L));
        assertThat(device.receiveMessage()).isEqualTo(new ServerShard.Credit(2, 41L, 5L));
    }

    @Test
    void adaptersStatsAndTheJobSpecRoundTrip() {
        TestProbe<DeviceActor.Report> coordinator = kit.createTestProbe();
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("layers.0.q.lora_A", new HostTensor(new int[] {2, 8}, new float[16]));
        tensors.put("layers.0.q.lora_B", new HostTensor(new int[] {8, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}));
        LoraAdapter adapter = new LoraAdapter(new LoraConfig(2, 4, 0.0, Set.of(LoraTarget.Q)), tensors, Set.of("layers.0.q.lora_A"));
        var stats = new DeviceRoundStats(1, 2, 64, 2, 1, 0.5, 1e9, 100, 200, 0,
                List.of(new StepLoss(2, 1, 0, 0.7f, 10)), List.of(new TimelineEvent(1, 2, 0, TimelineEvent.Stage.SENT, 99, "device-1")), 4150L);
        var done = (DeviceActor.RoundDone) roundTrip(new DeviceActor.RoundDone(1, 2, stats, adapter, null));
        assertThat(done.stats()).isEqualTo(stats);
        assertThat(done.update().tensors().get("layers.0.q.lora_B").data()).containsExactly(tensors.get("layers.0.q.lora_B").data());
        assertThat(done.update().frozen()).containsExactly("layers.0.q.lora_A");
        assertThat(done.update().config()).isEqualTo(adapter.config());

        JobSpec spec = JobSpec.fromConfig(JobConfig.load(ConfigFactory.empty()));
        var plan = new io.splitfed.actors.plan.DevicePlan(2, 16, 8, 3.25);
        var start = new DeviceActor.StartRound(1, 10, adapter, null, coordinator.getRef(), coordinator.getRef(), plan);
        var back = (DeviceActor.StartRound) roundTrip(start);
        assertThat(back.plan()).isEqualTo(plan);
        assertThat(back.coordinator()).isEqualTo(coordinator.getRef());
        assertThat(back.shard()).isNull();
        var result = new io.splitfed.actors.coordinator.JobResult(spec, List.of(), List.of(stats), List.of(), null, adapter, 3.5);
        var resultBack = (io.splitfed.actors.coordinator.JobResult) roundTrip(result);
        assertThat(resultBack.spec().training()).isEqualTo(spec.training());
        assertThat(resultBack.spec().federation().splitPoints()).containsExactly(spec.federation().splitPoints());
        assertThat(resultBack.spec().planning().policy()).isEqualTo(spec.planning().policy());
        assertThat(resultBack.spec().planning().profileTimeout()).isEqualTo(spec.planning().profileTimeout());
        assertThat(resultBack.deviceStats()).isEqualTo(List.of(stats));
    }

    @Test
    void aGpt2SmallCutOf12MegabytesGoesThroughArteryStyleBuffers() {
        int b = 8;
        int t = 512;
        int h = 768;
        float[] v = new float[b * t * h];
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 1e-3f;
        }
        TokenBatch batch = new TokenBatch(b, t, null, new int[] {512, 512, 512, 512, 512, 512, 512, 512}, new int[b], null, null, new long[b]);
        var f = new ServerShard.Forward(0, 6, 0, 0L, 1, batch, WireCodec.f32(v, b, t, h), 0L, null);
        KryoSerializer serializer = (KryoSerializer) serialization.findSerializerFor(f);
        ByteBuffer buf = ByteBuffer.allocateDirect(13 << 20);
        serializer.toBinary(f, buf);
        assertThat(buf.position()).isGreaterThan(12_582_912).isLessThan(12_600_000);
        buf.flip();
        var back = (ServerShard.Forward) serializer.fromBinary(buf, "");
        float[] got = WireCodec.toFloats(back.activations());
        assertThat(java.util.Arrays.mismatch(got, v)).as("first differing value").isEqualTo(-1);
    }

    @Test
    void theUShapesOutputAndItsGradientRoundTrip() {
        float[] v = new float[2 * 3 * 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.cos(i);
        }
        var out = (ServerShard.ServerOutput) roundTrip(new ServerShard.ServerOutput(1, 7L, WireCodec.f32(v, 2, 3, 4), 99L));
        assertThat(out.seq()).isEqualTo(7L);
        assertThat(WireCodec.toFloats(out.output())).containsExactly(v);
        var g = (ServerShard.OutputGradient) roundTrip(new ServerShard.OutputGradient(2, 1, 7L, WireCodec.f32(v, 2, 3, 4)));
        assertThat(g.device()).isEqualTo(2);
        assertThat(WireCodec.toFloats(g.gradient())).containsExactly(v);
    }

    @Test
    void everyWireClassIsARecordOrEnumAndInternalMessagesStayOut() {
        assertThat(WireRegistry.classes()).contains(ServerShard.Forward.class, ServerShard.CutGradient.class, DeviceActor.RoundDone.class,
                Aggregator.Result.class, ChunkPart.class, JobSpec.class, TensorPayload.Encoding.class);
        assertThat(WireRegistry.classes()).allMatch(c -> c.isRecord() || c.isEnum());
        assertThat(WireRegistry.classes()).noneMatch(c -> c.getSimpleName().equals("Trained") || c.getSimpleName().equals("Computed"));
    }
}
