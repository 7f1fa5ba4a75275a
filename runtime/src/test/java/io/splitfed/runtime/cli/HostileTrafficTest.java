package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.LogWatch;
import io.splitfed.runtime.node.ClusterCertificates;
import io.splitfed.runtime.node.NodeSettings;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The garbage suite: a node started as the README says ({@code splitfed node} in its own JVM, the
 * all-in-one config, no TLS flags: TLS by default, with a key made at start for this node alone,
 * and mutual authentication) trains its job while its port gets random bytes, Artery's magic header followed
 * by garbage frames, a frame length of {@code 0x7fffffff} followed by 3 MiB, 2,000 connections in
 * 20 s, and a node whose certificate another CA signed. The node's RSS grows by less than 300 MB
 * and its log by less than 20 MB, the stranger never joins, and the node exits 0 when its job ends.
 */
@Tag("cluster")
class HostileTrafficTest {

    private static final long MB = 1024 * 1024;

    @TempDir
    Path tmp;

    @Test
    void garbageOversizedFramesFloodsAndStrangersCostBoundedMemoryAndLogAndTheJobFinishes() throws Exception {
        Path roguePki = tmp.resolve("rogue-pki");
        assertThat(CliRun.of("certs", "--out", roguePki.toString(), "--nodes", "rogue=127.0.0.1").exit).isZero();

        int port = NodeCommandTest.freePort();
        String seed = "pekko://splitfed@127.0.0.1:" + port;
        Path config = Path.of(System.getProperty("user.dir")).resolve("../cluster-config/all-in-one.conf").normalize();
        try (NodeProcess node = NodeProcess.start(tmp, "host", NodeCommandTest.args("--config", config.toString(), "--port",
                Integer.toString(port), "--seed-nodes", seed, "--set", "splitfed.node.out=" + tmp.resolve("out"), "--set",
                "splitfed.job.federation.rounds=90",
                // a round's micro-batch waits 2 x 500 ms on its simulated link: 90 rounds last at least 90 s however fast the
                // host, and the attack ends about 55 s after the node is ready
                "--set", "splitfed.job.links.enabled=on", "--set", "splitfed.job.links.latency=500ms"))) {
            node.awaitOutput("ready: roles", 1, 2);
            assertThat(node.output()).as("TLS by default, with no flag asking for it").contains("TLS with a key made for this node alone");
            // the job is running; its heap and DJL's buffers settle within its first rounds (about 15 s)
            Thread.sleep(20_000);
            long rssBefore = 0;
            for (int i = 0; i < 5; i++) {
                rssBefore = Math.max(rssBefore, node.rss());
                Thread.sleep(1000);
            }
            long logBefore = Files.size(node.log);

            randomBytes(port, 4 * MB);
            magicThenGarbageFrames(port);
            hugeFrameLength(port);
            int accepted = flood(port, 2000, 20);
            rogueNode(roguePki, seed);
            Thread.sleep(2000); // whatever the node still does with what it got

            assertThat(node.isAlive()).as("the node still runs its job after the attack (else it was not attacked while busy)").isTrue();
            long rssGrowth = node.rss() - rssBefore;
            long logged = Files.size(node.log) - logBefore;
            System.out.printf("hostile traffic: %d of 2000 flood connections accepted; node RSS +%d MB, log +%d KB%n",
                    accepted, rssGrowth / MB, logged / 1024);
            assertThat(rssGrowth).as("the node's RSS grown during the attack").isLessThan(300 * MB);
            assertThat(logged).as("bytes the node logged during the attack").isLessThan(20 * MB);

            assertThat(node.awaitExit(5)).as("the node's exit code when its job ended:%n%s", node.tail()).isZero();
            assertThat(tmp.resolve("out/metrics.json")).as("the job's metrics").exists();
            assertThat(node.output()).as("the job host printed its last round").containsPattern("(?m)^\\s+90 ");
        }
    }

    private static String[] withTls(Path pki, String name, String... args) throws Exception {
        String[] out = Arrays.copyOf(args, args.length + 8);
        Path store = pki.resolve(name + ".p12");
        Path trust = pki.resolve("truststore.p12");
        String[] tls = {"--set", "splitfed.node.tls.key-store=" + store, "--set", "splitfed.node.tls.key-store-password=" + password(store),
            "--set", "splitfed.node.tls.trust-store=" + trust, "--set", "splitfed.node.tls.trust-store-password=" + password(trust)};
        System.arraycopy(tls, 0, out, args.length, tls.length);
        return out;
    }

    private static String password(Path store) throws Exception {
        return Files.readString(ClusterCertificates.passwordFile(store), StandardCharsets.UTF_8).trim();
    }

    private static void randomBytes(int port, long bytes) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            Random random = new Random(1);
            for (long sent = 0; sent < bytes; sent += chunk.length) {
                random.nextBytes(chunk);
                if (!write(out, chunk)) {
                    break; // the node hung up: what it should do
                }
            }
        }
    }

    /** Artery's TCP magic and the ordinary stream's id, then frames of random length and content. */
    private static void magicThenGarbageFrames(int port) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            if (!write(out, new byte[] {'P', 'E', 'K', 'K', 2})) {
                return;
            }
            Random random = new Random(2);
            for (int i = 0; i < 2000; i++) {
                byte[] frame = new byte[4 + random.nextInt(1024)];
                random.nextBytes(frame);
                ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN).putInt(frame.length - 4);
                if (!write(out, frame)) {
                    return;
                }
            }
        }
    }

    /** Artery's TCP magic and stream id, then a frame that says it holds 2 GiB, then 3 MiB of it. */
    private static void hugeFrameLength(int port) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            byte[] head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).put(new byte[] {'P', 'E', 'K', 'K', 2}).putInt(0x7fffffff).array();
            if (!write(out, head)) {
                return;
            }
            byte[] chunk = new byte[64 * 1024];
            new Random(3).nextBytes(chunk);
            for (int i = 0; i < 48 && write(out, chunk); i++) {
                // 3 MiB in all, unless the node hangs up first
            }
        }
    }

    /** {@code n} connections spread over {@code seconds}, each sending a few bytes and closing; returns how many connected. */
    private static int flood(int port, int n, int seconds) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger connected = new AtomicInteger();
        long start = System.nanoTime();
        try {
            for (int i = 0; i < n; i++) {
                long due = start + TimeUnit.SECONDS.toNanos(seconds) * i / n;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                pool.execute(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                        connected.incrementAndGet();
                        s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    } catch (Exception refused) {
                        // a node that sheds connections under a flood is doing its job
                    }
                });
            }
        } finally {
            pool.shutdown();
            pool.awaitTermination(1, TimeUnit.MINUTES);
        }
        return connected.get();
    }

    /** A node whose certificate another CA signed tries to join, until TLS has refused it. */
    private static void rogueNode(Path roguePki, String seed) {
        try (LogWatch refused = LogWatch.forText("SSLHandshakeException")) {
            int port = NodeCommandTest.freePort();
            Config rogue = CliRun.config(NodeCommandTest.args(withTls(roguePki, "rogue", "node", "--role", "server", "--port", Integer.toString(port),
                    "--seed-nodes", seed)));
            Config pekko = NodeSettings.from(rogue).pekkoConfig(rogue);
            var system = org.apache.pekko.actor.typed.ActorSystem.create(org.apache.pekko.actor.typed.javadsl.Behaviors.empty(), "splitfed", pekko);
            assertThat(refused.await(1, Duration.ofSeconds(60))).as("the stranger tried to connect, and TLS refused it").isTrue();
            assertThat(org.apache.pekko.cluster.typed.Cluster.get(system).selfMember().status())
                    .as("the stranger's own view of itself").isNotEqualTo(org.apache.pekko.cluster.MemberStatus.up());
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean write(OutputStream out, byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return true;
        } catch (java.io.IOException hungUp) {
            return false;
        }
    }
}
