package io.splitfed.actors.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

/**
 * The shipped {@code cluster-config/tls.conf} (Artery over TLS 1.3, mutual authentication): a node
 * whose certificate the cluster trusts joins; a node with a certificate of its own, which the
 * cluster does not trust, never becomes a member.
 */
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
        try {
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
            Thread.sleep(5000); // the intruder has kept trying all this while
            assertThat(upPorts(seed)).as("the untrusted node is not a member").doesNotContain(roguePort);
            assertThat(Cluster.get(intruder).selfMember().status()).isNotEqualTo(MemberStatus.up());
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
