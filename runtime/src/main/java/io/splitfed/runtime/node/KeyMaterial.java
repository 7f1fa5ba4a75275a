package io.splitfed.runtime.node;

import io.splitfed.runtime.cli.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Date;

/**
 * A node's TLS material, checked at start, before Pekko sees it: each store opens with its password,
 * the key store holds a private key whose certificate is in date and carries the key's public half,
 * and the trust store holds at least one certificate in date. Each failure is a {@link UserError}
 * (exit 2) that names the store, the setting that names it, and what is wrong; Pekko would otherwise
 * fail the first handshake and the node would wait out its join timeout.
 */
public final class KeyMaterial {

    private KeyMaterial() {}

    /**
     * @param setting the key-store setting's name, for messages (for example {@code splitfed.node.tls.key-store})
     * @param passwordSetting the password's setting or environment variable, for messages
     */
    public static void checkKeyStore(Path store, String password, String setting, String passwordSetting, Date now) {
        KeyStore ks = open(store, password, setting, passwordSetting);
        try {
            boolean found = false;
            for (String alias : Collections.list(ks.aliases())) {
                if (!ks.isKeyEntry(alias)) {
                    continue;
                }
                found = true;
                PrivateKey key;
                try {
                    key = (PrivateKey) ks.getKey(alias, password.toCharArray());
                } catch (UnrecoverableKeyException e) {
                    throw new UserError(store + " (" + setting + "): the key '" + alias + "' does not open with " + passwordSetting
                            + "; splitfed's nodes use the store's password for the key too");
                }
                Certificate cert = ks.getCertificate(alias);
                if (!(cert instanceof X509Certificate x509)) {
                    throw new UserError(store + " (" + setting + "): the key '" + alias + "' has no X.509 certificate");
                }
                inDate(x509, store, setting, "certificate of key '" + alias + "'", now);
                if (!matches(key, x509)) {
                    throw new UserError(store + " (" + setting + "): the key '" + alias + "' does not match its certificate ("
                            + x509.getSubjectX500Principal().getName() + "); make the node's store again with splitfed certs");
                }
            }
            if (!found) {
                throw new UserError(store + " (" + setting + "): holds no private key; expected the node's key store that splitfed certs made, "
                        + "not the trust store");
            }
        } catch (GeneralSecurityException e) {
            throw new UserError(store + " (" + setting + "): cannot read its key: " + e.getMessage());
        }
    }

    /** The trust store opens with its password and holds at least one certificate in date. */
    public static void checkTrustStore(Path store, String password, String setting, String passwordSetting, Date now) {
        KeyStore ks = open(store, password, setting, passwordSetting);
        try {
            int certificates = 0;
            for (String alias : Collections.list(ks.aliases())) {
                if (ks.getCertificate(alias) instanceof X509Certificate x509) {
                    certificates++;
                    inDate(x509, store, setting, "trusted certificate '" + alias + "'", now);
                }
            }
            if (certificates == 0) {
                throw new UserError(store + " (" + setting + "): trusts no certificate; expected the truststore.p12 that splitfed certs made");
            }
        } catch (GeneralSecurityException e) {
            throw new UserError(store + " (" + setting + "): cannot read it: " + e.getMessage());
        }
    }

    private static KeyStore open(Path store, String password, String setting, String passwordSetting) {
        try (InputStream in = Files.newInputStream(store)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
            return ks;
        } catch (NoSuchFileException e) {
            throw new UserError(setting + " = " + store + ": no such file; expected the PKCS#12 store splitfed certs made");
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException || String.valueOf(e.getMessage()).contains("password")) {
                throw new UserError(store + " (" + setting + "): the password in " + passwordSetting + " does not open it");
            }
            throw new UserError(store + " (" + setting + "): not a PKCS#12 store (" + e.getMessage() + ")");
        } catch (GeneralSecurityException e) {
            throw new UserError(store + " (" + setting + "): cannot open it: " + e.getMessage());
        }
    }

    private static void inDate(X509Certificate cert, Path store, String setting, String what, Date now) {
        try {
            cert.checkValidity(now);
        } catch (CertificateExpiredException e) {
            throw new UserError(store + " (" + setting + "): the " + what + " expired on " + cert.getNotAfter().toInstant()
                    + "; make new material with splitfed certs (--days sets how long it lasts)");
        } catch (CertificateNotYetValidException e) {
            throw new UserError(store + " (" + setting + "): the " + what + " is not valid before " + cert.getNotBefore().toInstant()
                    + "; is this machine's clock right?");
        }
    }

    /** Whether {@code key} is the private half of the certificate's public key: sign, then verify. */
    private static boolean matches(PrivateKey key, X509Certificate cert) throws GeneralSecurityException {
        String algorithm = io.splitfed.actors.cluster.NodeIdentity.signatureAlgorithm(key.getAlgorithm());
        try {
            Signature.getInstance(algorithm);
        } catch (java.security.NoSuchAlgorithmException e) {
            return true; // an algorithm this check does not know: the handshake will tell
        }
        byte[] probe = "splitfed key check".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Signature sign = Signature.getInstance(algorithm);
        sign.initSign(key);
        sign.update(probe);
        byte[] sig = sign.sign();
        Signature verify = Signature.getInstance(algorithm);
        verify.initVerify(cert.getPublicKey());
        verify.update(probe);
        return verify.verify(sig);
    }

    /**
     * This node's identity under TLS, from the Pekko settings it runs with (null without TLS): its
     * key and certificate, from the key store, and the CA certificates of its trust store.
     */
    public static io.splitfed.actors.cluster.NodeIdentity identity(com.typesafe.config.Config pekko) {
        String artery = "pekko.remote.artery.";
        if (!pekko.hasPath(artery + "transport") || !"tls-tcp".equals(pekko.getString(artery + "transport"))
                || !pekko.getString(artery + "ssl.ssl-engine-provider").endsWith(".ConfigSSLEngineProvider")) {
            return null;
        }
        com.typesafe.config.Config ssl = pekko.getConfig(artery + "ssl.config-ssl-engine");
        String setting = artery + "ssl.config-ssl-engine.";
        KeyStore keys = open(Path.of(ssl.getString("key-store")), ssl.getString("key-store-password"), setting + "key-store", setting + "key-store-password");
        KeyStore trust = open(Path.of(ssl.getString("trust-store")), ssl.getString("trust-store-password"), setting + "trust-store",
                setting + "trust-store-password");
        try {
            PrivateKey key = null;
            X509Certificate cert = null;
            for (String alias : Collections.list(keys.aliases())) {
                if (keys.isKeyEntry(alias)) {
                    key = (PrivateKey) keys.getKey(alias, ssl.getString("key-password").toCharArray());
                    cert = (X509Certificate) keys.getCertificate(alias);
                    break;
                }
            }
            java.util.List<X509Certificate> trusted = new java.util.ArrayList<>();
            for (String alias : Collections.list(trust.aliases())) {
                if (trust.getCertificate(alias) instanceof X509Certificate c) {
                    trusted.add(c);
                }
            }
            return key == null ? null : new io.splitfed.actors.cluster.NodeIdentity(key, cert, trusted);
        } catch (GeneralSecurityException e) {
            throw new UserError(ssl.getString("key-store") + " (" + setting + "key-store): cannot read its key: " + e.getMessage());
        }
    }
}
