package io.splitfed.actors.wire;

import com.typesafe.config.Config;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The side channel's TLS, made from the same {@code pekko.remote.artery.ssl.config-ssl-engine}
 * settings as Artery's own: this node's key store, the cluster's trust store, the protocol and
 * cipher suites, and mutual authentication. So a node that may not join the cluster may not pull
 * its tensors either.
 */
final class SideChannelTls {

    static final String CONFIG_PROVIDER = "org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider";

    private final SSLContext context;
    private final String[] protocols;
    private final String[] suites;
    private final boolean mutual;
    private final int handshakeMillis;

    private SideChannelTls(SSLContext context, String[] protocols, String[] suites, boolean mutual, int handshakeMillis) {
        this.context = context;
        this.protocols = protocols;
        this.suites = suites;
        this.mutual = mutual;
        this.handshakeMillis = handshakeMillis;
    }

    /**
     * Built from {@code artery} ({@code pekko.remote.artery}); it must use the config engine
     * provider. A handshake not done within {@code handshake} fails, so a peer that connects and
     * stays silent does not hold a thread.
     */
    static SideChannelTls of(Config artery, java.time.Duration handshake) {
        Config c = artery.getConfig("ssl.config-ssl-engine");
        try {
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(load(c, "key-store", "key-store-password"), c.getString("key-password").toCharArray());
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(load(c, "trust-store", "trust-store-password"));
            SSLContext context = SSLContext.getInstance(c.getString("protocol"));
            context.init(keys.getKeyManagers(), trust.getTrustManagers(), new SecureRandom());
            return new SideChannelTls(context, new String[] {c.getString("protocol")},
                    c.getStringList("enabled-algorithms").toArray(String[]::new), c.getBoolean("require-mutual-authentication"),
                    (int) Math.min(Integer.MAX_VALUE, handshake.toMillis()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("pekko.remote.artery.ssl.config-ssl-engine: cannot make the side channel's TLS context: " + e.getMessage(), e);
        }
    }

    private static KeyStore load(Config c, String path, String password) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        Path file = Path.of(c.getString(path));
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, c.getString(password).toCharArray());
        } catch (IOException e) {
            throw new IOException("pekko.remote.artery.ssl.config-ssl-engine." + path + " = " + file + ": " + e.getMessage(), e);
        }
        return store;
    }

    /** {@code socket} under TLS, the handshake done; a server side demands the peer's certificate when mutual. */
    SSLSocket wrap(Socket socket, boolean client, String host, int port) throws IOException {
        SSLSocket tls = client ? (SSLSocket) context.getSocketFactory().createSocket(socket, host, port, true)
                : (SSLSocket) context.getSocketFactory().createSocket(socket, null, true);
        tls.setUseClientMode(client);
        tls.setEnabledProtocols(protocols);
        tls.setEnabledCipherSuites(suites);
        if (!client) {
            tls.setNeedClientAuth(mutual);
        }
        tls.setSoTimeout(handshakeMillis);
        tls.startHandshake();
        tls.setSoTimeout(0);
        return tls;
    }
}
