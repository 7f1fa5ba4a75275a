package io.splitfed.actors.chaos;

import io.splitfed.actors.coordinator.RoundCoordinator;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.ChunkPart;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Bad input, forged for fault injection: what a buggy or hostile device could send. Each kind is
 * one of the checks the runtime makes, so a test or {@code splitfed churn} can show that each is
 * refused with a reason and leaves the model alone.
 */
public enum Malformed {
    /** Activations holding NaN. */
    NAN,
    /** Activations one column wider than the model. */
    SHAPE,
    /** fp32 bytes declared as fp16: twice as many values as the batch has room for. */
    DTYPE,
    /** A micro-batch for a round that has closed. */
    CLOSED_ROUND,
    /** A micro-batch from a device the job does not have. */
    UNKNOWN_DEVICE,
    /** A device adapter update with NaN (SFL and FedLoRA). */
    NAN_UPDATE,
    /** A device adapter update a thousand times too large (SFL and FedLoRA). */
    OUTLIER_UPDATE,
    /** Random bytes where a serialized message should be. */
    GARBAGE_FRAME,
    /** A serialized micro-batch cut off halfway. */
    TRUNCATED_FRAME;

    public static Malformed parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown malformed-message kind '" + s + "'; expected one of "
                    + java.util.Arrays.stream(values()).map(v -> v.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList());
        }
    }

    /**
     * Sends this kind of bad input as if from {@code device} during {@code round}: micro-batch kinds
     * to {@code shard}, update kinds to {@code coordinator}. {@code template} gives the adapter's
     * shape (null outside SFL and FedLoRA, where update kinds have nothing to forge).
     */
    public void send(ActorSystem<?> system, JobSpec spec, int hidden, int device, int round, ActorRef<ServerShard.Command> shard,
            ActorRef<RoundCoordinator.Command> coordinator, LoraAdapter template, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int k = spec.federation().minSplitPoint();
        TokenBatch batch = new TokenBatch(2, 4, null, new int[] {4, 4}, new int[] {0, 1}, null, null, new long[] {-1, -2});
        float[] values = new float[2 * 4 * hidden];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        long seq = Long.MAX_VALUE - rnd.nextInt(1 << 20);
        ActorRef<ServerShard.Reply> nobody = system.ignoreRef();
        Outbox outbox = Outbox.get(system);
        switch (this) {
            case NAN -> {
                values[values.length / 2] = Float.NaN;
                outbox.send(shard, new ServerShard.Forward(device, k, round, seq, 1, batch, WireCodec.f32(values, 2, 4, hidden), 0, nobody));
            }
            case SHAPE -> outbox.send(shard, new ServerShard.Forward(device, k, round, seq, 1, batch,
                    WireCodec.f32(new float[2 * 4 * (hidden + 1)], 2, 4, hidden + 1), 0, nobody));
            case DTYPE -> {
                byte[] f32 = WireCodec.f32(values, 2, 4, hidden).bytes();
                outbox.send(shard, new ServerShard.Forward(device, k, round, seq, 1, batch,
                        new TensorPayload(TensorPayload.Encoding.F16, new int[] {2, 4, 2 * hidden}, f32, null), 0, nobody));
            }
            case CLOSED_ROUND -> outbox.send(shard, new ServerShard.Forward(device, k, Math.max(0, round - 1), seq, 1, batch,
                    WireCodec.f32(values, 2, 4, hidden), 0, nobody));
            case UNKNOWN_DEVICE -> outbox.send(shard, new ServerShard.Forward(spec.federation().devices() + 7, k, round, seq, 1, batch,
                    WireCodec.f32(values, 2, 4, hidden), 0, nobody));
            case NAN_UPDATE, OUTLIER_UPDATE -> {
                if (template == null) {
                    throw new IllegalArgumentException(this + ": devices train no adapter in " + spec.mode().name().toLowerCase(Locale.ROOT));
                }
                Map<String, HostTensor> t = new LinkedHashMap<>();
                template.tensors().forEach((key, v) -> {
                    float[] d = v.data().clone();
                    for (int i = 0; i < d.length; i++) {
                        d[i] = this == NAN_UPDATE ? d[i] : 1000f * (float) rnd.nextGaussian();
                    }
                    t.put(key, new HostTensor(v.shape().clone(), d));
                });
                if (this == NAN_UPDATE) {
                    t.values().iterator().next().data()[0] = Float.NaN;
                }
                LoraAdapter forged = new LoraAdapter(template.config(), t, template.frozen());
                DeviceRoundStats stats = new DeviceRoundStats(device, round, 64, 2, 0, 0.1, 1e6, 0, 0, 0, List.of(), List.of(), 0);
                outbox.send(RoundCoordinator.DEVICE_REPORTS.replyTo(coordinator), new DeviceActor.RoundDone(device, round, stats, forged, system.ignoreRef()));
            }
            case GARBAGE_FRAME -> {
                byte[] junk = new byte[4096];
                rnd.nextBytes(junk);
                outbox.forge(shard, new ChunkPart(rnd.nextLong(), 0, 1, junk));
            }
            case TRUNCATED_FRAME -> {
                ServerShard.Forward f = new ServerShard.Forward(device, k, round, seq, 1, batch, WireCodec.f32(values, 2, 4, hidden), 0, nobody);
                byte[] whole = org.apache.pekko.serialization.SerializationExtension.get(
                        org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system)).serialize(f).get();
                outbox.forge(shard, new ChunkPart(rnd.nextLong(), 0, 1, java.util.Arrays.copyOf(whole, whole.length / 2)));
            }
        }
    }
}
