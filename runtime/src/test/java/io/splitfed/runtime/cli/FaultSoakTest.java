package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.model.testing.LogWatch;
import io.splitfed.runtime.node.ClusterCertificates;
import io.splitfed.runtime.node.NodeSettings;
import io.splitfed.runtime.node.SplitfedNodeSystem;
import io.splitfed.runtime.report.JobMetrics;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The operator-mistake soak (issue 25): a TLS cluster whose certificates name each node's roles and
 * devices (a job host, two edge nodes of two devices each) trains while bad actors try their luck:
 * a copy of an edge node's material claiming its live devices, a node whose certificate names other
 * devices, a key store opened with the wrong password, a node whose certificate another CA signed
 * (in its own JVM, so that what it is told comes from its own side of the handshake), and a node on
 * the job host's port. Each is refused with its reason and exits 2; the job finishes with every
 * round closed by its devices, not its deadline, and nothing trained twice.
 */
@Tag("cluster")
class FaultSoakTest {

    @TempDir
    Path tmp;

    private static final String[] JOB = {"--set", "splitfed.job.federation.devices=4", "--set", "splitfed.job.federation.rounds=4",
        "--set", "splitfed.job.federation.epochs=4", "--set", "splitfed.job.links.enabled=true", "--set", "splitfed.job.links.uplink-mbps=1",
        "--set", "splitfed.job.federation.round-deadline=120s"};

    @Test
    void badActorsAreRefusedWithTheirReasonsWhileTheJobFinishesOnTime() throws Exception {
        Path pki = tmp.resolve("pki");
        CliRun made = CliRun.of("certs", "--out", pki.toString(), "--nodes", "host,edge-1,edge-2", "--node-roles", "host=aggregator,server",
                "--node-roles", "edge-1=device", "--node-devices", "edge-1=0-1", "--node-roles", "edge-2=device", "--node-devices", "edge-2=2-3");
        assertThat(made.exit).as(made.err).isZero();
        X509Certificate edge1 = (X509Certificate) load(pki.resolve("edge-1.p12")).getCertificate("edge-1");
        assertThat(edge1.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
                .as("the certificate names its node's role and devices").contains("splitfed:roles:device", "splitfed:devices:0-1");
        Path roguePki = tmp.resolve("rogue-pki");
        assertThat(CliRun.of("certs", "--out", roguePki.toString(), "--nodes", "rogue").exit).isZero();

        int port = NodeCommandTest.freePort();
        String seed = "pekko://splitfed@127.0.0.1:" + port;
        try (LogWatch impostorWarning = LogWatch.forText("claims a device another node holds");
                SplitfedNodeSystem jobHost = start(node(pki, "host", pki, "--role", "aggregator,server", "--port", Integer.toString(port), "--seed-nodes", seed))) {
            CompletableFuture<SplitfedNodeSystem> edgeOne = CompletableFuture.supplyAsync(() -> start(
                    node(pki, "edge-1", pki, "--role", "device", "--node-devices", "0,1", "--port", "0", "--seed-nodes", seed)));
            CompletableFuture<SplitfedNodeSystem> edgeTwo = CompletableFuture.supplyAsync(() -> start(
                    node(pki, "edge-2", pki, "--role", "device", "--node-devices", "2,3", "--port", "0", "--seed-nodes", seed)));
            SplitfedNodeSystem one = edgeOne.get(2, TimeUnit.MINUTES);
            SplitfedNodeSystem two = edgeTwo.get(2, TimeUnit.MINUTES);
            try {
                // the stranger first, in its own JVM: it waits out its join timeout while the others are refused
                Path rogueLog = tmp.resolve("rogue.log");
                List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                        "-cp", System.getProperty("java.class.path"), SplitfedCommand.class.getName()));
                cmd.addAll(List.of(node(roguePki, "rogue", roguePki, "--role", "device", "--node-devices", "0", "--port", "0", "--seed-nodes", seed,
                        "--set", "splitfed.node.join-timeout=15s")));
                Process rogue = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(rogueLog.toFile()).start();

                // a copy of edge-1's material (a copied SPLITFED_DEVICES and key store) claiming its live devices
                CliRun impostor = CliRun.of(node(pki, "edge-1", pki, "--role", "device", "--node-devices", "0,1", "--port", "0", "--seed-nodes", seed));
                assertRefused(impostor, "the job host refused this node: device 0 belongs to node pekko://splitfed@127.0.0.1:",
                        "which is live and holds devices [0, 1]");

                // a node whose certificate names other devices than it claims
                CliRun otherDevices = CliRun.of(node(pki, "edge-2", pki, "--role", "device", "--node-devices", "0", "--port", "0", "--seed-nodes", seed));
                assertRefused(otherDevices, "the job host refused this node: its certificate (CN=edge-2) names devices [2-3], not device 0");

                // a key store opened with the wrong password
                List<String> wrong = new ArrayList<>(List.of(node(pki, "edge-2", pki, "--role", "device", "--node-devices", "2", "--port", "0",
                        "--seed-nodes", seed)));
                wrong.addAll(List.of("--set", "splitfed.node.tls.key-store-password=not-it"));
                assertRefused(CliRun.of(wrong.toArray(String[]::new)), pki.resolve("edge-2.p12") + " (splitfed.node.tls.key-store)", "does not open it");

                // a node on the job host's own port
                assertRefused(CliRun.of(node(pki, "edge-2", pki, "--role", "device", "--node-devices", "2", "--port", Integer.toString(port),
                        "--seed-nodes", seed)), "127.0.0.1:" + port + " is in use by another process");

                assertThat(rogue.waitFor(2, TimeUnit.MINUTES)).isTrue();
                String rogueSaid = Files.readString(rogueLog, StandardCharsets.UTF_8);
                assertThat(rogue.exitValue()).as(rogueSaid).isEqualTo(2);
                assertThat(rogueSaid).contains("splitfed node: this node did not join the cluster within 15 s: TLS handshakes with the cluster failed (")
                        .contains("made by the same splitfed certs directory as the seed node's?");

                var result = jobHost.awaitEnd();
                assertThat(result).as("the job finished").isNotNull();
                assertThat(result.rounds()).hasSize(4).allSatisfy(r -> {
                    assertThat(r.closedByDeadline()).as("round %d held to its deadline", r.round()).isFalse();
                    assertThat(r.done()).as("round %d's devices all answered", r.round()).containsExactly(0, 1, 2, 3);
                });
                var once = JobMetrics.of(result).exactlyOnce();
                assertThat(once.trainedTwice()).as("nothing trained twice").isZero();
                assertThat(once.holds()).isTrue();
                assertThat(impostorWarning.count()).as("the job host warned once about the impostor").isEqualTo(1);
            } finally {
                // the edge nodes stop by themselves once the job host is gone; a slow teardown is not what this test is about
                for (SplitfedNodeSystem edge : List.of(one, two)) {
                    try {
                        edge.close();
                    } catch (Exception slowTeardown) {
                        System.out.println("edge node teardown: " + slowTeardown);
                    }
                }
            }
        }
    }

    private static void assertRefused(CliRun r, String... reason) {
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err.strip().lines()).as(r.err).hasSize(1);
        assertThat(r.err).as(r.err).doesNotContain("\tat ").contains(reason);
    }

    /** {@code splitfed node ARGS} with node {@code name}'s stores from {@code keys} and the trust store of {@code trust}, on the soak's job. */
    private static String[] node(Path keys, String name, Path trust, String... args) {
        try {
            Path store = keys.resolve(name + ".p12");
            Path trustStore = trust.resolve("truststore.p12");
            List<String> a = new ArrayList<>(List.of(NodeCommandTest.args(concat(new String[] {"node"}, args))));
            a.addAll(List.of(JOB));
            a.addAll(List.of("--set", "splitfed.node.tls.key-store=" + store, "--set", "splitfed.node.tls.key-store-password=" + password(store),
                    "--set", "splitfed.node.tls.trust-store=" + trustStore, "--set", "splitfed.node.tls.trust-store-password=" + password(trustStore)));
            return a.toArray(String[]::new);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static SplitfedNodeSystem start(String[] args) {
        try {
            Config config = CliRun.config(args);
            NodeSettings settings = NodeSettings.from(config);
            Config pekko = settings.pekkoConfig(config);
            return SplitfedNodeSystem.start(new JobPlan(JobPreparation.prepare(JobSpec.fromConfig(pekko))), settings, pekko);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String password(Path store) throws Exception {
        return Files.readString(ClusterCertificates.passwordFile(store), StandardCharsets.UTF_8).strip();
    }

    private static KeyStore load(Path store) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            ks.load(in, password(store).toCharArray());
        }
        return ks;
    }
}
