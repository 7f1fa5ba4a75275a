package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.ChunkPart;
import io.splitfed.actors.wire.Claim;
import io.splitfed.actors.wire.Inbound;
import io.splitfed.actors.wire.KryoSerializer;
import io.splitfed.actors.wire.Microbatches;
import io.splitfed.actors.wire.Wire;
import io.splitfed.model.testing.LogWatch;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The shipped {@code cluster-config/tls.conf} (Artery over TLS 1.3, mutual authentication): a node
 * whose certificate the cluster trusts joins; a node with a certificate of its own, which the
 * cluster does not trust, never becomes a member; and tensors pulled by the side channel travel
 * under the same TLS, which refuses a stranger who learnt a claim.
 */
@Tag("cluster")
class TlsTest {

    private static final String PASSWORD = "splitfed-test";

    @TempDir
    Path dir;

    @Test
    void aNodeWithAnUntrustedCertificateCannotJoin() throws Exception {
        Path cluster = keyPair("cluster");
        Path rogue = keyPair("rogue");
        Path trust = trustStore("trust", "cluster");
        Path rogueTrust = trustStore("rogue-trust", "cluster", "rogue"); // the rogue trusts the cluster; not the other way round

        int seedPort = freePort();
        List<ActorSystem<Void>> systems = new ArrayList<>();
        try (LogWatch refused = LogWatch.forText("SSLHandshakeException")) {
            ActorSystem<Void> seed = node(seedPort, seedPort, cluster, trust);
            systems.add(seed);
            int memberPort = freePort();
            systems.add(node(memberPort, seedPort, cluster, trust));
            int roguePort = freePort();
            ActorSystem<Void> intruder = node(roguePort, seedPort, rogue, rogueTrust);
            systems.add(intruder);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (upPorts(seed).size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(upPorts(seed)).as("the trusted node joined").containsExactlyInAnyOrder(seedPort, memberPort);
            assertThat(refused.await(1, Duration.ofSeconds(60))).as("the intruder tried to connect, and TLS refused it").isTrue();
            assertThat(upPorts(seed)).as("the untrusted node is not a member").doesNotContain(roguePort);
            assertThat(Cluster.get(intruder).selfMember().status()).isNotEqualTo(MemberStatus.up());
        } finally {
            systems.forEach(ActorSystem::terminate);
            for (ActorSystem<Void> s : systems) {
                s.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void tensorsArePulledOverTlsAndAStrangerCannotPullThem() throws Exception {
        Path cluster = keyPair("cluster");
        Path rogue = keyPair("rogue");
        Path trust = trustStore("trust", "cluster");
        Path rogueTrust = trustStore("rogue-trust", "cluster", "rogue");
        int senderPort = freePort();
        int receiverPort = freePort();
        List<ActorSystem<Void>> systems = new ArrayList<>();
        try {
            ActorSystem<Void> sender = node(senderPort, senderPort, cluster, trust);
            systems.add(sender);
            ActorSystem<Void> receiver = node(receiverPort, receiverPort, cluster, trust);
            systems.add(receiver);
            LinkedBlockingQueue<ServerShard.Command> got = new LinkedBlockingQueue<>();
            ActorRef<ServerShard.Command> sink = receiver.systemActorOf(Inbound.receiving(Behaviors.<ServerShard.Command>receiveMessage(m -> {
                got.add(m);
                return Behaviors.same();
            })), "sink", Props.empty());
            ActorRef<Object> to = ActorRefResolver.get(sender).<Object>resolveActorRef(sink.path().toStringWithAddress(receiver.address()));
            ServerShard.Forward f = Microbatches.forward(4, 500_000);
            List<ChunkPart> parts = Wire.split(sender, sink.path().toStringWithoutAddress(), f);
            Claim claim = (Claim) SerializationExtension.get(Adapter.toClassic(sender)).deserialize(parts.get(0).bytes(), KryoSerializer.IDENTIFIER, "").get();

            // a stranger who learnt the claim: in plain TCP, then with a certificate the cluster does not trust
            try (SocketChannel plain = SocketChannel.open(new InetSocketAddress(claim.host(), claim.port()))) {
                plain.write(ByteBuffer.allocate(8).putLong(claim.id()).flip());
                plain.socket().setSoTimeout(10_000);
                byte[] answer = plain.socket().getInputStream().readAllBytes(); // until the server hangs up
                assertThat(answer.length).as("a plain-TCP stranger gets a TLS alert at most, none of the 2 MB").isLessThan(1000);
            }
            SSLContext rogueTls = SSLContext.getInstance("TLSv1.3");
            KeyStore rogueKeys = KeyStore.getInstance("PKCS12");
            try (var in = java.nio.file.Files.newInputStream(rogue)) {
                rogueKeys.load(in, PASSWORD.toCharArray());
            }
            KeyStore rogueTrusts = KeyStore.getInstance("PKCS12");
            try (var in = java.nio.file.Files.newInputStream(rogueTrust)) {
                rogueTrusts.load(in, PASSWORD.toCharArray());
            }
            KeyManagerFactory km = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            km.init(rogueKeys, PASSWORD.toCharArray());
            TrustManagerFactory tm = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tm.init(rogueTrusts);
            rogueTls.init(km.getKeyManagers(), tm.getTrustManagers(), null);
            try (SSLSocket s = (SSLSocket) rogueTls.getSocketFactory().createSocket(claim.host(), claim.port())) {
                s.setSoTimeout(10_000);
                assertThatThrownBy(() -> {
                    s.getOutputStream().write(ByteBuffer.allocate(8).putLong(claim.id()).array());
                    s.getOutputStream().flush();
                    if (s.getInputStream().readNBytes(4).length < 4) {
                        throw new java.io.EOFException("closed");
                    }
                }).as("an untrusted certificate is refused").isInstanceOf(java.io.IOException.class);
            }

            to.tell(claim);
            ServerShard.Command pulled = got.poll(30, TimeUnit.SECONDS);
            assertThat(pulled).as("the member pulls it over TLS, still held after the strangers tried").isInstanceOf(ServerShard.Forward.class);
            assertThat(Arrays.equals(((ServerShard.Forward) pulled).activations().bytes(), f.activations().bytes())).as("byte for byte").isTrue();
        } finally {
            systems.forEach(ActorSystem::terminate);
            for (ActorSystem<Void> s : systems) {
                s.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static List<Integer> upPorts(ActorSystem<Void> s) {
        return StreamSupport.stream(Cluster.get(s).state().getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up()).map(Member::address).map(a -> (Integer) a.port().get()).toList();
    }

    private ActorSystem<Void> node(int port, int seedPort, Path keyStore, Path trustStore) {
        Config tls = ConfigFactory.parseFile(new File("../cluster-config/tls.conf"))
                .resolveWith(ConfigFactory.parseMap(Map.of("SPLITFED_KEYSTORE", keyStore.toString(), "SPLITFED_TRUSTSTORE", trustStore.toString(),
                        "SPLITFED_KEYSTORE_PASSWORD", PASSWORD, "SPLITFED_TRUSTSTORE_PASSWORD", PASSWORD)));
        Config node = ConfigFactory.parseString("pekko.actor.provider = cluster\n"
                + "pekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                + "pekko.remote.artery.canonical.port = " + port + "\n"
                + "pekko.cluster.seed-nodes = [\"pekko://tls@127.0.0.1:" + seedPort + "\"]\n"
                + "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                + "pekko.loglevel = WARNING\n");
        return ActorSystem.create(Behaviors.empty(), "tls", node.withFallback(tls).withFallback(ConfigFactory.load()));
    }

    private Path keyPair(String name) throws Exception {
        Path store = dir.resolve(name + ".p12");
        keytool("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=splitfed-" + name,
                "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", name, "-keystore", store.toString(), "-storepass", PASSWORD, "-file", dir.resolve(name + ".cer").toString());
        return store;
    }

    private Path trustStore(String name, String... certs) throws Exception {
        Path store = dir.resolve(name + ".p12");
        for (String c : certs) {
            keytool("-importcert", "-noprompt", "-alias", c, "-file", dir.resolve(c + ".cer").toString(), "-keystore", store.toString(),
                    "-storetype", "PKCS12", "-storepass", PASSWORD);
        }
        return store;
    }

    private static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("keytool %s: %s", String.join(" ", args), out).isZero();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
