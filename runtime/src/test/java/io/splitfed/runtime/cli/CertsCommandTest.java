package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.LogWatch;
import io.splitfed.runtime.node.ClusterCertificates;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

/**
 * {@code splitfed certs}: nodes whose stores it made join a TLS cluster (the shipped
 * {@code cluster-config/tls.conf}, mutual authentication); a node with stores from another run's CA
 * does not; a later run adds a node under the same CA.
 */
@Tag("cluster")
class CertsCommandTest {

    @TempDir
    Path tmp;

    @Test
    void nodesFromOneCaJoinAndANodeFromAnotherCaDoesNot() throws Exception {
        Path dir = tmp.resolve("pki");
        CliRun made = CliRun.of("certs", "--out", dir.toString(), "--nodes", "seed,member=127.0.0.1");
        assertThat(made.exit).as(made.err).isZero();
        assertThat(made.out).contains("made the cluster CA").contains("seed: SPLITFED_KEYSTORE=" + dir.resolve("seed.p12"));
        for (String f : List.of("ca.p12", "truststore.p12", "seed.p12", "member.p12", "seed.p12.password")) {
            assertThat(dir.resolve(f)).exists();
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("seed.p12.password")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");

        // a later run keeps the CA: its node is signed by the same one
        CliRun later = CliRun.of("certs", "--out", dir.toString(), "--nodes", "late");
        assertThat(later.exit).as(later.err).isZero();
        assertThat(later.out).contains("using the cluster CA");
        X509Certificate ca = (X509Certificate) load(dir.resolve("truststore.p12")).getCertificate("splitfed-ca");
        X509Certificate late = (X509Certificate) load(dir.resolve("late.p12")).getCertificate("late");
        late.verify(ca.getPublicKey());
        assertThat(late.getSubjectX500Principal().getName()).isEqualTo("CN=late");

        Path rogueDir = tmp.resolve("rogue-pki");
        assertThat(CliRun.of("certs", "--out", rogueDir.toString(), "--nodes", "rogue").exit).isZero();

        int seedPort = NodeCommandTest.freePort();
        List<ActorSystem<Void>> systems = new ArrayList<>();
        try (LogWatch refused = LogWatch.forText("SSLHandshakeException")) {
            ActorSystem<Void> seed = node(seedPort, seedPort, dir, "seed");
            systems.add(seed);
            int memberPort = NodeCommandTest.freePort();
            systems.add(node(memberPort, seedPort, dir, "member"));
            int roguePort = NodeCommandTest.freePort();
            ActorSystem<Void> rogue = node(roguePort, seedPort, rogueDir, "rogue");
            systems.add(rogue);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (upPorts(seed).size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(upPorts(seed)).as("the nodes of the cluster's CA joined").containsExactlyInAnyOrder(seedPort, memberPort);
            assertThat(refused.await(1, Duration.ofSeconds(60))).as("the rogue tried to connect, and TLS refused it").isTrue();
            assertThat(upPorts(seed)).as("a node of another CA is not a member").doesNotContain(roguePort);
            assertThat(Cluster.get(rogue).selfMember().status()).isNotEqualTo(MemberStatus.up());
        } finally {
            systems.forEach(ActorSystem::terminate);
            for (ActorSystem<Void> s : systems) {
                s.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aBadNodeNameIsRefused() {
        CliRun r = CliRun.of("certs", "--out", tmp.resolve("x").toString(), "--nodes", "gpu 1");
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err).contains("--nodes gpu 1").contains("letters, digits");
    }

    private static KeyStore load(Path store) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, password(store));
        }
        return ks;
    }

    private static char[] password(Path store) throws Exception {
        return Files.readString(ClusterCertificates.passwordFile(store), StandardCharsets.UTF_8).trim().toCharArray();
    }

    private static ActorSystem<Void> node(int port, int seedPort, Path dir, String name) throws Exception {
        Path store = dir.resolve(name + ".p12");
        Path trust = dir.resolve("truststore.p12");
        Config tls = ConfigFactory.parseFile(new File("../cluster-config/tls.conf"))
                .resolveWith(ConfigFactory.parseMap(Map.of("SPLITFED_KEYSTORE", store.toString(), "SPLITFED_TRUSTSTORE", trust.toString(),
                        "SPLITFED_KEYSTORE_PASSWORD", new String(password(store)), "SPLITFED_TRUSTSTORE_PASSWORD", new String(password(trust)))));
        Config node = ConfigFactory.parseString("pekko.actor.provider = cluster\n"
                + "pekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                + "pekko.remote.artery.canonical.port = " + port + "\n"
                + "pekko.cluster.seed-nodes = [\"pekko://certs@127.0.0.1:" + seedPort + "\"]\n"
                + "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                + "pekko.loglevel = WARNING\n");
        return ActorSystem.create(Behaviors.empty(), "certs", node.withFallback(tls).withFallback(ConfigFactory.load()));
    }

    private static List<Integer> upPorts(ActorSystem<Void> s) {
        return StreamSupport.stream(Cluster.get(s).state().getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up()).map(Member::address).map(a -> (Integer) a.port().get()).toList();
    }
}
