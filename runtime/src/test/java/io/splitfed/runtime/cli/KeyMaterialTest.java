package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.runtime.node.ClusterCertificates;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;

/**
 * A node checks its TLS material before it starts: a wrong password, a missing store, an expired
 * certificate or a key that is not its certificate's exits 2 at once, naming the store and the
 * setting, instead of failing every handshake until the join timeout.
 */
class KeyMaterialTest {

    @TempDir
    Path tmp;

    private CliRun node(Path keyStore, String keyPassword, Path trustStore, String trustPassword) {
        return CliRun.of(NodeCommandTest.args("node", "--role", "server", "--host", "10.1.2.3", "--seed-nodes", "pekko://splitfed@10.1.2.3:25520",
                "--set", "splitfed.node.tls.key-store=" + keyStore, "--set", "splitfed.node.tls.key-store-password=" + keyPassword,
                "--set", "splitfed.node.tls.trust-store=" + trustStore, "--set", "splitfed.node.tls.trust-store-password=" + trustPassword));
    }

    private static String password(Path store) throws Exception {
        return Files.readString(ClusterCertificates.passwordFile(store)).strip();
    }

    private static void assertRefused(CliRun r, String... parts) {
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err.strip().lines()).as(r.err).hasSize(1);
        assertThat(r.err).as(r.err).doesNotContain("\tat ").doesNotContain("Exception").contains(parts);
    }

    @Test
    void aWrongPasswordAMissingStoreAndTheTrustStoreInPlaceOfTheKeyStoreAreNamed() throws Exception {
        Path pki = tmp.resolve("pki");
        assertThat(CliRun.of("certs", "--out", pki.toString(), "--nodes", "gpu-1").exit).isZero();
        Path key = pki.resolve("gpu-1.p12");
        Path trust = pki.resolve("truststore.p12");

        assertRefused(node(key, "not-the-password", trust, password(trust)), key + " (splitfed.node.tls.key-store)",
                "the password in splitfed.node.tls.key-store-password (SPLITFED_KEYSTORE_PASSWORD) does not open it");
        assertRefused(node(key, password(key), trust, "wrong"), trust + " (splitfed.node.tls.trust-store)", "SPLITFED_TRUSTSTORE_PASSWORD");
        assertRefused(node(trust, password(trust), trust, password(trust)), "holds no private key");
        assertRefused(node(tmp.resolve("gone.p12"), "x", trust, password(trust)), tmp.resolve("gone.p12").toString(), "splitfed certs");
    }

    @Test
    void anExpiredCertificateIsRefusedWithItsDate() throws Exception {
        Path pki = tmp.resolve("old");
        ClusterCertificates ca = ClusterCertificates.openOrCreate(pki, 0); // valid until the moment it was made
        Path key = ca.writeNode(ClusterCertificates.Node.parse("gpu-1"));
        Path trust = ca.writeTrustStore();
        Thread.sleep(1_100);
        assertRefused(node(key, password(key), trust, password(trust)), key.toString(), "certificate of key 'gpu-1' expired on", "splitfed certs");
    }

    @Test
    void aKeyThatIsNotItsCertificatesIsRefused() throws Exception {
        Path pki = tmp.resolve("pki");
        assertThat(CliRun.of("certs", "--out", pki.toString(), "--nodes", "gpu-1,gpu-2").exit).isZero();
        KeyStore one = load(pki.resolve("gpu-1.p12"));
        KeyStore two = load(pki.resolve("gpu-2.p12"));
        String pw = password(pki.resolve("gpu-1.p12"));
        PrivateKey key = (PrivateKey) one.getKey("gpu-1", pw.toCharArray());
        Certificate[] chain = two.getCertificateChain("gpu-2");
        KeyStore mixed = KeyStore.getInstance("PKCS12");
        mixed.load(null, null);
        mixed.setKeyEntry("gpu-1", key, pw.toCharArray(), chain);
        Path store = tmp.resolve("mixed.p12");
        try (OutputStream out = Files.newOutputStream(store)) {
            mixed.store(out, pw.toCharArray());
        }
        Path trust = pki.resolve("truststore.p12");
        assertRefused(node(store, pw, trust, password(trust)), store.toString(), "the key 'gpu-1' does not match its certificate (CN=gpu-2)");
    }

    private static KeyStore load(Path store) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, password(store).toCharArray());
        }
        return ks;
    }
}
