package io.splitfed.runtime.bench;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.KryoSerializer;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.tensor.WireCodec;
import io.splitfed.actors.wire.Inbound;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.SerializationExtension;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.TimeUnit;

/**
 * The wire, for a GPT-2-small cut (8 x 512 x 768, 12.6 MB in fp32, 3.2 MB at 8 bits). Kryo encode
 * plus decode in memory against a plain ByteBuffer copy of the same bytes; then activations sent
 * between two ActorSystems on loopback as a cluster sends them: by the side channel (see
 * {@code SideChannel}) against Kryo in memory, at 32 and 8 bits; and, from a node with the side
 * channel off, on Artery's large-message stream (whole frames, see {@code BulkLane}) and in parts
 * on its ordinary stream, against the side channel. Every figure is measured in each of five
 * rounds, the figures one after another within a round, and its median is kept.
 */
public final class WireSuite implements BenchSuite {

    static final int B = 8;
    static final int T = 512;
    static final int H = 768;
    /** Micro-batches in flight: a device's default credit window (splitfed.job.pipeline.window). */
    static final int WINDOW = 4;
    /** Rounds of measurement; each figure is the median of its rounds. */
    static final int TRIALS = 5;

    @Override
    public String name() {
        return "wire";
    }

    @Override
    public String description() {
        return "Kryo encode+decode of a 12.6 MB activation message vs a ByteBuffer copy; activations between two nodes on loopback";
    }

    static ServerShard.Forward message(TensorPayload.Encoding encoding) {
        float[] v = new float[B * T * H];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 1000) * 1e-3f;
        }
        int[] lengths = new int[B];
        java.util.Arrays.fill(lengths, T);
        TokenBatch batch = new TokenBatch(B, T, null, lengths, new int[B], null, null, new long[B]);
        return new ServerShard.Forward(0, 6, 0, 0L, 1, batch, WireCodec.encode(v, new int[] {B, T, H}, encoding, null), 0L, null);
    }

    /** A loopback cluster node; {@code side} turns its side channel on or off. Both open the large-message stream to /user/splitfed/*. */
    static Config node(boolean side) {
        return ConfigFactory.parseString("pekko.actor.provider = cluster\npekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                + "pekko.remote.artery.canonical.port = 0\npekko.loglevel = WARNING\n"
                + "pekko.remote.artery.large-message-destinations = [\"/user/splitfed/*\"]\n"
                + "splitfed.wire.side-channel.enabled = " + (side ? "on" : "off") + "\n"
                + "pekko.cluster.seed-nodes = []\npekko.cluster.jmx.multi-mbeans-in-same-jvm = on\n").withFallback(ConfigFactory.load());
    }

    @Override
    public List<Comparison> run(boolean quick) throws Exception {
        ServerShard.Forward f32 = message(TensorPayload.Encoding.F32);
        ServerShard.Forward int8 = message(TensorPayload.Encoding.INT8_TOKEN);
        int reps = quick ? 10 : 100;
        ActorSystem<Void> a = ActorSystem.create(Behaviors.empty(), "splitfed", node(true));
        ActorSystem<Void> artery = ActorSystem.create(Behaviors.empty(), "splitfed", node(false));
        try {
            KryoSerializer kryo = (KryoSerializer) SerializationExtension.get(Adapter.toClassic(a)).findSerializerFor(f32);
            double mb32 = f32.activations().wireBytes() / 1e6;
            double mb8 = int8.activations().wireBytes() / 1e6;
            // recipients on the large-message stream (/user/splitfed/*) and off it
            AtomicLong received = new AtomicLong();
            CompletableFuture<ActorRef<ServerShard.Command>> on = new CompletableFuture<>();
            CompletableFuture<ActorRef<ServerShard.Command>> off = new CompletableFuture<>();
            ActorSystem<Void> b = ActorSystem.create(Behaviors.setup(ctx -> {
                ctx.spawn(Sink.parent(on, received), "splitfed");
                ctx.spawn(Sink.parent(off, received), "elsewhere");
                return Behaviors.empty();
            }), "splitfed", node(true));
            try {
                Sink onLane = new Sink(b, on.get(10, TimeUnit.SECONDS), received);
                Sink offLane = new Sink(b, off.get(10, TimeUnit.SECONDS), received);
                int n32 = quick ? 10 : 100;
                int n8 = quick ? 40 : 400;
                // every figure measured in each of TRIALS rounds, one after another, and the median
                // kept, so that a slow spell of the machine falls on a figure and its reference alike
                double[][] t = new double[8][TRIALS];
                for (int r = 0; r < TRIALS; r++) {
                    t[0][r] = kryoMbs(kryo, f32, reps);
                    t[1][r] = copyMbs(f32.activations().bytes(), reps);
                    t[2][r] = offLane.rate(a, f32, n32) * mb32;
                    t[3][r] = kryoMbs(kryo, int8, reps);
                    t[4][r] = offLane.rate(a, int8, n8) * mb8;
                    t[5][r] = socketMbs(int8.activations().bytes(), n8);
                    t[6][r] = onLane.rate(artery, f32, n32) * mb32;
                    t[7][r] = offLane.rate(artery, f32, n32) * mb32;
                }
                double kryo32 = median(t[0]);
                double copyMbs = median(t[1]);
                double side32 = median(t[2]);
                double kryo8 = median(t[3]);
                double side8 = median(t[4]);
                double socket8 = median(t[5]);
                double lane32 = median(t[6]);
                double parts32 = median(t[7]);
                return List.of(
                        new Comparison(name(), "Kryo encode+decode, 12.6 MB activations", kryo32, "MB/s", "ByteBuffer copy out and back", copyMbs, "MB/s", true),
                        new Comparison(name(), "activations node to node on loopback (side channel, 12.6 MB micro-batches)", side32, "MB/s",
                                "Kryo encode+decode in memory", kryo32, "MB/s", true),
                        new Comparison(name(), "8-bit activations node to node on loopback (side channel, 3.2 MB)", side8, "MB/s",
                                "Kryo encode+decode of them in memory", kryo8, "MB/s", true),
                        new Comparison(name(), "8-bit activations by the side channel", side8, "MB/s",
                                "a bare loopback socket moving the same bytes array to array", socket8, "MB/s", true),
                        new Comparison(name(), "the same 12.6 MB on Artery's large-message stream (side channel off)", lane32, "MB/s",
                                "the side channel", side32, "MB/s", true),
                        new Comparison(name(), "the same on Artery's ordinary stream (192 KiB parts)", parts32, "MB/s",
                                "the side channel", side32, "MB/s", true));
            } finally {
                b.terminate();
                b.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        } finally {
            a.terminate();
            artery.terminate();
            a.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            artery.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static double median(double[] v) {
        double[] sorted = v.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double kryoMbs(KryoSerializer kryo, ServerShard.Forward f, int reps) {
        ByteBuffer buf = ByteBuffer.allocateDirect(14 << 20);
        for (int i = 0; i < reps; i++) {
            roundTrip(kryo, f, buf); // warm-up
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            roundTrip(kryo, f, buf);
        }
        return reps * f.activations().wireBytes() / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }

    private static double copyMbs(byte[] bytes, int reps) {
        ByteBuffer src = ByteBuffer.wrap(bytes);
        ByteBuffer dst = ByteBuffer.allocateDirect(14 << 20);
        ByteBuffer back = ByteBuffer.allocate(14 << 20);
        for (int i = 0; i < reps; i++) {
            copy(src, dst);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            copy(src, dst);
            copy(dst, back);
        }
        return reps * bytes.length / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }

    /** A bare loopback TCP socket, one thread each side, moving {@code bytes} from a heap array to a heap array {@code reps} times: the floor any transport pays. */
    private static double socketMbs(byte[] bytes, int reps) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            CompletableFuture<Void> read = CompletableFuture.runAsync(() -> {
                try (SocketChannel in = server.accept()) {
                    ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length);
                    for (int i = 0; i < 2 * reps; i++) {
                        buf.clear();
                        while (buf.hasRemaining()) {
                            in.read(buf);
                        }
                        buf.flip().get(new byte[bytes.length]);
                    }
                    in.write(ByteBuffer.wrap(new byte[1]));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (SocketChannel out = SocketChannel.open(server.getLocalAddress())) {
                ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length);
                long t0 = 0;
                for (int i = 0; i < 2 * reps; i++) {
                    if (i == reps) {
                        t0 = System.nanoTime();
                    }
                    buf.clear();
                    buf.put(bytes).flip();
                    while (buf.hasRemaining()) {
                        out.write(buf);
                    }
                }
                out.read(ByteBuffer.allocate(1));
                read.get(1, TimeUnit.MINUTES);
                return reps * bytes.length / 1e6 / ((System.nanoTime() - t0) / 1e9);
            }
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

    /** A server shard's receiving edge at {@code /user/<parent>/device-0} of a second node, counting whole micro-batches. */
    private record Sink(ActorSystem<?> node, ActorRef<ServerShard.Command> ref, AtomicLong received) {

        /** An actor whose child {@code device-0} is the sink, handed to {@code ref}. */
        static Behavior<Void> parent(CompletableFuture<ActorRef<ServerShard.Command>> ref, AtomicLong received) {
            Behavior<ServerShard.Command> sink = Inbound.receiving(Behaviors.receiveMessage(m -> {
                if (m instanceof ServerShard.Forward) {
                    synchronized (received) {
                        received.incrementAndGet();
                        received.notifyAll();
                    }
                }
                return Behaviors.same();
            }));
            return Behaviors.setup(ctx -> {
                ref.complete(ctx.spawn(sink, "device-0"));
                return Behaviors.empty();
            });
        }

        /** Messages per second from {@code from} to this sink, at most {@link #WINDOW} in flight, after as many again to warm up. */
        double rate(ActorSystem<Void> from, ServerShard.Forward f, int count) throws Exception {
            String path = ref.path().toStringWithAddress(node.address());
            ActorRef<ServerShard.Command> remote = ActorRefResolver.get(from).resolveActorRef(path);
            send(from, remote, f, count); // warm-up: the connection, and the JIT through Artery's and Kryo's paths
            return count / (send(from, remote, f, count) / 1e9);
        }

        /** Nanoseconds to send {@code count} messages and see them arrive. */
        private long send(ActorSystem<Void> from, ActorRef<ServerShard.Command> remote, ServerShard.Forward f, int count) throws InterruptedException {
            long base = received.get();
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                Outbox.get(from).send(remote, f);
                await(base + i + 1 - WINDOW);
            }
            await(base + count);
            return System.nanoTime() - t0;
        }

        /** Waits, woken by the sink, until {@code n} micro-batches have arrived. */
        private void await(long n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            synchronized (received) {
                while (received.get() < n) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new IllegalStateException("the loopback transfer did not complete");
                    }
                    TimeUnit.NANOSECONDS.timedWait(received, left);
                }
            }
        }
    }
}
