package io.splitfed.runtime.bench;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.KryoSerializer;
import io.splitfed.actors.wire.Wire;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.WireCodec;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.SerializationExtension;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The wire: Kryo encode plus decode of a GPT-2-small cut (8 x 512 x 768 fp32, 12.6 MB) against a
 * plain ByteBuffer copy of the same bytes, and activations sent between two ActorSystems on
 * loopback through Artery, Kryo and chunking, against the in-memory copy.
 */
public final class WireSuite implements BenchSuite {

    static final int B = 8;
    static final int T = 512;
    static final int H = 768;

    @Override
    public String name() {
        return "wire";
    }

    @Override
    public String description() {
        return "Kryo encode+decode of a 12.6 MB activation message vs a ByteBuffer copy; activations between two nodes on loopback";
    }

    static ServerShard.Forward message() {
        float[] v = new float[B * T * H];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 1000) * 1e-3f;
        }
        int[] lengths = new int[B];
        java.util.Arrays.fill(lengths, T);
        TokenBatch batch = new TokenBatch(B, T, null, lengths, new int[B], null, null, new long[B]);
        return new ServerShard.Forward(0, 6, 0, 0L, 1, batch, WireCodec.f32(v, B, T, H), 0L, null);
    }

    static Config node(int port) {
        return ConfigFactory.parseString("pekko.actor.provider = cluster\npekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                + "pekko.remote.artery.canonical.port = " + port + "\npekko.loglevel = WARNING\n"
                + "pekko.cluster.seed-nodes = []\npekko.cluster.jmx.multi-mbeans-in-same-jvm = on\n").withFallback(ConfigFactory.load());
    }

    @Override
    public List<Comparison> run(boolean quick) throws Exception {
        ServerShard.Forward f = message();
        double mb = f.activations().bytes().length / 1e6;
        int reps = quick ? 5 : 20;
        ActorSystem<Void> a = ActorSystem.create(Behaviors.empty(), "splitfed", node(0));
        try {
            KryoSerializer kryo = (KryoSerializer) SerializationExtension.get(Adapter.toClassic(a)).findSerializerFor(f);
            ByteBuffer buf = ByteBuffer.allocateDirect(14 << 20);
            ByteBuffer src = ByteBuffer.wrap(f.activations().bytes());
            ByteBuffer dst = ByteBuffer.allocateDirect(14 << 20);
            ByteBuffer back = ByteBuffer.allocate(14 << 20);
            for (int i = 0; i < 3; i++) {
                roundTrip(kryo, f, buf);
                copy(src, dst);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                roundTrip(kryo, f, buf);
            }
            double kryoMbs = reps * mb / ((System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                copy(src, dst);
                copy(dst, back);
            }
            double copyMbs = reps * mb / ((System.nanoTime() - t0) / 1e9);
            double netMbs = loopback(a, f, quick ? 5 : 20) * mb;
            return List.of(
                    new Comparison(name(), "Kryo encode+decode, 12.6 MB activations", kryoMbs, "MB/s", "ByteBuffer copy out and back", copyMbs, "MB/s", true),
                    new Comparison(name(), "activations node to node on loopback (Artery, Kryo, 192 KiB parts)", netMbs, "MB/s",
                            "Kryo encode+decode in memory", kryoMbs, "MB/s", true));
        } finally {
            a.terminate();
            a.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static void roundTrip(KryoSerializer kryo, Object o, ByteBuffer buf) {
        buf.clear();
        kryo.toBinary(o, buf);
        buf.flip();
        kryo.fromBinary(buf, "");
    }

    private static void copy(ByteBuffer from, ByteBuffer to) {
        to.clear();
        to.put(from.duplicate());
        to.flip();
    }

    /** Messages per second from {@code a} to a second node's guardian, each sent in parts. */
    private static double loopback(ActorSystem<Void> a, ServerShard.Forward f, int count) throws Exception {
        CountDownLatch done = new CountDownLatch(count + 2);
        // a worker's receiving edge: the parts become the whole micro-batch again
        Behavior<ServerShard.Command> sink = io.splitfed.actors.wire.Inbound.receiving(Behaviors.receiveMessage(m -> {
            if (m instanceof ServerShard.Forward) {
                done.countDown();
            }
            return Behaviors.same();
        }));
        ActorSystem<ServerShard.Command> b = ActorSystem.create(sink, "splitfed", node(0));
        try {
            return send(a, b, f, count, done);
        } finally {
            b.terminate();
            b.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static double send(ActorSystem<Void> a, ActorSystem<ServerShard.Command> b, ServerShard.Forward f, int count, CountDownLatch done)
            throws Exception {
        String path = b.path().toStringWithAddress(b.address());
        ActorRef<ServerShard.Command> remote = org.apache.pekko.actor.typed.ActorRefResolver.get(a).resolveActorRef(path);
        for (int i = 0; i < 2; i++) {
            Wire.tell(a, remote, f); // warm-up: connection and JIT
        }
        while (done.getCount() > count) {
            Thread.sleep(10);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            Wire.tell(a, remote, f);
            // keep at most two messages queued, as a device's credit window would
            while (done.getCount() > count - i + 1) {
                Thread.sleep(1);
            }
        }
        if (!done.await(5, TimeUnit.MINUTES)) {
            throw new IllegalStateException("the loopback transfer did not complete");
        }
        return count / ((System.nanoTime() - t0) / 1e9);
    }
}
