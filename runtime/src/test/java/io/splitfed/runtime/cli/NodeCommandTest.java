package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.model.testing.SharedData;
import io.splitfed.runtime.node.NodeSettings;
import io.splitfed.runtime.node.SplitfedNodeSystem;
import io.splitfed.runtime.testing.Scrape;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.DoublePredicate;

/** {@code splitfed node}: a wrong config exits with the setting and the reason, never hangs; a right one trains. */
@Tag("cluster")
class NodeCommandTest {

    static final String[] SMALL_JOB = {"--train-limit", "160", "--eval-limit", "32", "--max-length", "32", "--micro-batch", "8", "--rounds", "1",
        "--epochs", "1"};

    static int freePort() {
        return io.splitfed.runtime.churn.LocalNode.freePort();
    }

    static String[] args(String... first) {
        String[] out = new String[first.length + SMALL_JOB.length + 2];
        System.arraycopy(first, 0, out, 0, first.length);
        System.arraycopy(SMALL_JOB, 0, out, first.length, SMALL_JOB.length);
        out[out.length - 2] = "--set";
        out[out.length - 1] = "splitfed.data-root=" + SharedData.root();
        return out;
    }

    @Test
    void anUnknownRoleIsNamed() {
        CliRun r = CliRun.of(args("node", "--role", "gpu"));
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err).contains("splitfed.node.roles").contains("unknown role 'gpu'");
    }

    @Test
    void aNodeReachableFromOtherMachinesRefusesToStartWithoutTls() {
        CliRun r = CliRun.of(args("node", "--role", "server", "--host", "10.1.2.3"));
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err.strip().lines()).hasSize(1);
        assertThat(r.err).contains("splitfed.node.host = 10.1.2.3").contains("no TLS").contains("splitfed certs").contains("--insecure");
        assertThat(CliRun.config(args("node", "--role", "server", "--host", "10.1.2.3", "--insecure")).getBoolean("splitfed.node.insecure"))
                .as("--insecure lets the operator say so").isTrue();
    }

    @Test
    void aNodeOfSeveralWithoutTlsMaterialIsRefusedOnLoopbackTooAndANodeAloneMakesItsOwn() throws Exception {
        CliRun r = CliRun.of(args("node", "--role", "server", "--port", "0", "--seed-nodes", "pekko://splitfed@127.0.0.1:25999"));
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err.strip().lines()).hasSize(1);
        assertThat(r.err).contains("joins a cluster of several nodes and has no TLS material").contains("splitfed certs").contains("--insecure");

        int port = freePort();
        Config alone = CliRun.config(args("node", "--role", "aggregator,server,device", "--node-devices", "0-1", "--port", Integer.toString(port),
                "--seed-nodes", "pekko://splitfed@127.0.0.1:" + port, "--set", "splitfed.job.federation.devices=2"));
        NodeSettings settings = NodeSettings.from(alone);
        assertThat(settings.security()).isEqualTo(io.splitfed.runtime.node.NodeTls.Mode.EPHEMERAL);
        Config pekko = settings.pekkoConfig(alone);
        assertThat(pekko.getString("pekko.remote.artery.transport")).isEqualTo("tls-tcp");
        assertThat(pekko.getBoolean("pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication")).isTrue();
        Path store = Path.of(pekko.getString("pekko.remote.artery.ssl.config-ssl-engine.key-store"));
        assertThat(store).exists();
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(store.getParent()))).isEqualTo("rwx------");
        Config other = settings.pekkoConfig(alone);
        assertThat(other.getString("pekko.remote.artery.ssl.config-ssl-engine.key-store")).as("each start makes its own").isNotEqualTo(store.toString());

        Config insecure = CliRun.config(args("node", "--role", "server", "--port", "0", "--seed-nodes", "pekko://splitfed@127.0.0.1:25999", "--insecure"));
        assertThat(NodeSettings.from(insecure).security()).isEqualTo(io.splitfed.runtime.node.NodeTls.Mode.INSECURE);
    }

    @Test
    void aNodeWithTheStoresOfSplitfedCertsTalksTlsOnly(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path pki = tmp.resolve("pki");
        assertThat(CliRun.of("certs", "--out", pki.toString(), "--nodes", "gpu-1").exit).isZero();
        Config config = CliRun.config(args("node", "--role", "server", "--host", "10.1.2.3",
                "--set", "splitfed.node.tls.key-store=" + pki.resolve("gpu-1.p12"), "--set", "splitfed.node.tls.trust-store=" + pki.resolve("truststore.p12"),
                "--set", "splitfed.node.tls.key-store-password=" + Files.readString(pki.resolve("gpu-1.p12.password")).strip(),
                "--set", "splitfed.node.tls.trust-store-password=" + Files.readString(pki.resolve("truststore.p12.password")).strip()));
        Config pekko = io.splitfed.runtime.node.NodeSettings.from(config).pekkoConfig(config);
        assertThat(pekko.getString("pekko.remote.artery.transport")).isEqualTo("tls-tcp");
        assertThat(pekko.getBoolean("pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication")).isTrue();
        assertThat(pekko.getString("pekko.remote.artery.ssl.config-ssl-engine.key-store")).isEqualTo(pki.resolve("gpu-1.p12").toString());

        CliRun missing = CliRun.of(args("node", "--role", "server", "--host", "10.1.2.3", "--set", "splitfed.node.tls.key-store=" + tmp.resolve("none.p12")));
        assertThat(missing.exit).isEqualTo(2);
        assertThat(missing.err).contains("splitfed.node.tls.key-store = '" + tmp.resolve("none.p12") + "'").contains("splitfed certs");
    }

    @Test
    void aPortInUseIsOneLineWithoutAStackTrace() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String port = Integer.toString(taken.getLocalPort());
            CliRun r = CliRun.of(args("node", "--role", "aggregator", "--port", port, "--seed-nodes", "pekko://splitfed@127.0.0.1:" + port, "--insecure"));
            assertThat(r.exit).as(r.err).isEqualTo(2);
            assertThat(r.err.strip().lines()).as(r.err).hasSize(1);
            assertThat(r.err).contains("127.0.0.1:" + port + " is in use by another process (splitfed.node.port, --port)").doesNotContain("\tat ");
        }
    }

    @Test
    void aBadSeedAddressIsNamed() {
        CliRun r = CliRun.of(args("node", "--role", "server", "--seed-nodes", "10.0.0.1:25520"));
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err).contains("splitfed.node.seed-nodes[0] = '10.0.0.1:25520'").contains("expected pekko://splitfed@HOST:PORT");
    }

    @Test
    void aSeedNobodyListensOnEndsTheNodeAfterTheJoinTimeout() throws Exception {
        int nobody = freePort();
        long t0 = System.nanoTime();
        CliRun r = CliRun.of(args("node", "--role", "server", "--port", "0", "--seed-nodes", "pekko://splitfed@127.0.0.1:" + nobody,
                "--set", "splitfed.node.join-timeout=3s", "--insecure"));
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err).contains("did not join the cluster within 3 s").contains("splitfed.node.seed-nodes");
        assertThat((System.nanoTime() - t0) / 1e9).as("seconds to give up").isLessThan(60);
    }

    @Test
    void aNodeWhoseJobHostDiesExitsNonZeroAndSaysSo() throws Exception {
        int port = freePort();
        String seed = "pekko://splitfed@127.0.0.1:" + port;
        String[] job = {"--set", "splitfed.job.federation.rounds=400", "--set", "splitfed.job.federation.epochs=40", "--set", "splitfed.job.federation.devices=2",
            "--set", "pekko.cluster.split-brain-resolver.stable-after=3s", "--insecure"};
        Config host = CliRun.config(concat(args("node", "--role", "aggregator", "--port", Integer.toString(port), "--seed-nodes", seed,
                "--set", "splitfed.node.metrics-port=0"), job));
        NodeSettings settings = NodeSettings.from(host);
        // a crash: the job host's system stops without leaving the cluster
        Config pekko = ConfigFactory.parseString("pekko.coordinated-shutdown.run-by-actor-system-terminate = off\n"
                + "pekko.cluster.run-coordinated-shutdown-when-down = off").withFallback(settings.pekkoConfig(host));
        java.util.concurrent.CompletableFuture<CliRun> worker;
        try (SplitfedNodeSystem aggregator = SplitfedNodeSystem.start(new JobPlan(JobPreparation.prepare(JobSpec.fromConfig(pekko))), settings, pekko)) {
            worker = java.util.concurrent.CompletableFuture.supplyAsync(() -> CliRun.of(concat(args("node", "--role", "server,device",
                    "--node-devices", "0,1", "--port", "0", "--seed-nodes", seed), job)));
            // registered, and training: the job host counts answered samples
            Scrape.await(aggregator.metrics().url(), Duration.ofMinutes(2), "splitfed_samples_trained_total", (DoublePredicate) v -> v > 0);
            assertThat(worker).as("the worker node is still running the job").isNotDone();
        }
        CliRun r = worker.get(3, java.util.concurrent.TimeUnit.MINUTES);
        assertThat(r.exit).as(r.err).isEqualTo(3);
        assertThat(r.err).contains("the job host (" + seed).contains("was lost before the job finished")
                .contains("set splitfed.job.checkpoint.dir to be able to resume");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aServerWithAnotherShardCountIsRefusedByTheJobHost() throws Exception {
        int port = freePort();
        String seed = "pekko://splitfed@127.0.0.1:" + port;
        Config host = CliRun.config(args("node", "--role", "aggregator", "--port", Integer.toString(port), "--seed-nodes", seed,
                "--set", "splitfed.job.server.shards=2", "--insecure"));
        NodeSettings settings = NodeSettings.from(host);
        Config pekko = settings.pekkoConfig(host);
        try (SplitfedNodeSystem aggregator = SplitfedNodeSystem.start(new JobPlan(JobPreparation.prepare(JobSpec.fromConfig(pekko))), settings, pekko)) {
            CliRun r = CliRun.of(args("node", "--role", "server", "--port", "0", "--seed-nodes", seed, "--set", "splitfed.job.server.shards=3", "--insecure"));
            assertThat(r.exit).isEqualTo(2);
            assertThat(r.err).contains("splitfed.job.server.shards = 3 on this node but 2 on the job host");
        }
    }

    @Test
    void anAllInOneNodeTrainsTheJobAndWritesItsOutputs() throws Exception {
        int port = freePort();
        Path out = Files.createTempDirectory("splitfed-node");
        // surefire runs in the module's directory; cluster-config/ is beside it
        Path config = Path.of(System.getProperty("user.dir")).resolve("../cluster-config/all-in-one.conf").normalize();
        CliRun r = CliRun.of(args("node", "--config", config.toString(), "--port", Integer.toString(port),
                "--seed-nodes", "pekko://splitfed@127.0.0.1:" + port, "--set", "splitfed.node.out=" + out));
        assertThat(r.exit).as(r.err).isZero();
        assertThat(r.out).contains("ready: roles [aggregator, server, device]").contains("TLS with a key made for this node alone");
        assertThat(out.resolve("metrics.json")).exists();
        assertThat(out.resolve("adapter/adapter_model.safetensors")).exists();
    }

    @Test
    void theJobHostsNodeServesLiveMetrics() throws Exception {
        int port = freePort();
        Path config = Path.of(System.getProperty("user.dir")).resolve("../cluster-config/all-in-one.conf").normalize();
        Config host = CliRun.config(args("node", "--config", config.toString(), "--port", Integer.toString(port),
                "--seed-nodes", "pekko://splitfed@127.0.0.1:" + port, "--set", "splitfed.node.metrics-port=0",
                "--set", "splitfed.node.out=" + Files.createTempDirectory("splitfed-node")));
        NodeSettings settings = NodeSettings.from(host);
        Config pekko = settings.pekkoConfig(host);
        try (SplitfedNodeSystem node = SplitfedNodeSystem.start(new JobPlan(JobPreparation.prepare(JobSpec.fromConfig(pekko))), settings, pekko)) {
            assertThat(node.metrics()).as("an aggregator node with metrics-port set").isNotNull();
            assertThat(node.awaitEnd()).isNotNull();
            var http = java.net.http.HttpClient.newHttpClient();
            String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(node.metrics().url())).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertThat(body).contains("splitfed_rounds_completed_total 1.0").contains("splitfed_job_finished 1.0")
                    .containsPattern("splitfed_samples_trained_total [1-9]").containsPattern("splitfed_bytes_total\\{direction=\"up\"} [1-9]");
        }
    }
}
