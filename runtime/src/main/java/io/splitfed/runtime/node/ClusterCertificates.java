package io.splitfed.runtime.node;

import io.splitfed.runtime.cli.UserError;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The TLS material of a splitfed cluster, as NVFlare's provisioning makes it: one CA, a PKCS#12 key
 * store per node with the node's key and a certificate the CA signed (for both client and server
 * authentication, so Artery's mutual authentication holds), and a trust store with the CA alone.
 * Keys are EC P-256, signatures ECDSA with SHA-256, built with BouncyCastle. Every store has a
 * random password in a file beside it; the directory and the files are readable by their owner
 * only.
 */
public final class ClusterCertificates {

    public static final String CA_STORE = "ca.p12";
    public static final String TRUST_STORE = "truststore.p12";
    private static final String CA_ALIAS = "splitfed-ca";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final int days;
    private final PrivateKey caKey;
    private final X509Certificate ca;
    private final boolean createdCa;

    /**
     * A node's name and the host names or addresses its certificate names, with the roles and
     * device ids it grants (empty: any), which the job host enforces ({@code NodeIdentity}).
     */
    public record Node(String name, List<String> hosts, List<String> roles, List<String> devices) {

        public Node(String name, List<String> hosts) {
            this(name, hosts, List.of(), List.of());
        }

        /** This node granted {@code newRoles} (device, server, aggregator) and {@code newDevices} (ids or ranges A-B). */
        public Node granting(List<String> newRoles, List<String> newDevices) {
            for (String r : newRoles) {
                if (!io.splitfed.actors.cluster.SplitfedNode.ROLES.contains(r)) {
                    throw new UserError("--node-roles " + name + "=" + String.join(",", newRoles) + ": unknown role '" + r
                            + "' (expected device, server or aggregator)");
                }
            }
            for (String d : newDevices) {
                if (!d.matches("\\d+(-\\d+)?")) {
                    throw new UserError("--node-devices " + name + "=" + String.join(",", newDevices) + ": '" + d + "' is not a device id or range such as 0-3");
                }
            }
            return new Node(name, hosts, List.copyOf(newRoles), List.copyOf(newDevices));
        }

        /** {@code name} or {@code name=host1+host2}. */
        public static Node parse(String spec) {
            int eq = spec.indexOf('=');
            String name = (eq < 0 ? spec : spec.substring(0, eq)).trim();
            if (!NAME.matcher(name).matches()) {
                throw new UserError("--nodes " + spec + ": a node name is letters, digits, '.', '_' and '-'");
            }
            List<String> hosts = new ArrayList<>();
            if (eq >= 0) {
                for (String h : spec.substring(eq + 1).split("\\+")) {
                    if (!h.isBlank()) {
                        hosts.add(h.trim());
                    }
                }
            }
            return new Node(name, hosts);
        }
    }

    private ClusterCertificates(Path dir, int days, PrivateKey caKey, X509Certificate ca, boolean createdCa) {
        this.dir = dir;
        this.days = days;
        this.caKey = caKey;
        this.ca = ca;
        this.createdCa = createdCa;
    }

    /** The CA in {@code dir}, or a new one there. */
    public static ClusterCertificates openOrCreate(Path dir, int days) throws Exception {
        Files.createDirectories(dir);
        ownerOnly(dir, true);
        Path store = dir.resolve(CA_STORE);
        if (Files.exists(store)) {
            char[] pw = readPassword(store);
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                ks.load(in, pw);
            } catch (IOException e) {
                throw new UserError(store + ": cannot open the cluster CA (" + e.getMessage() + "); is " + passwordFile(store) + " its password?");
            }
            return new ClusterCertificates(dir, days, (PrivateKey) ks.getKey(CA_ALIAS, pw), (X509Certificate) ks.getCertificate(CA_ALIAS), false);
        }
        KeyPair kp = keyPair();
        X500Name name = new X500Name("CN=splitfed cluster CA");
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), new Date(), until(days * 2), name, kp.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
        X509Certificate ca = sign(b, kp.getPrivate());
        KeyStore ks = emptyStore();
        char[] pw = newPassword(store);
        ks.setKeyEntry(CA_ALIAS, kp.getPrivate(), pw, new Certificate[] {ca});
        save(ks, store, pw);
        return new ClusterCertificates(dir, days, kp.getPrivate(), ca, true);
    }

    public boolean createdCa() {
        return createdCa;
    }

    /** The trust store every node uses: the CA's certificate alone. */
    public Path writeTrustStore() throws Exception {
        Path store = dir.resolve(TRUST_STORE);
        KeyStore ks = emptyStore();
        ks.setCertificateEntry(CA_ALIAS, ca);
        char[] pw = Files.exists(passwordFile(store)) ? readPassword(store) : newPassword(store);
        save(ks, store, pw);
        return store;
    }

    /** {@code node}'s key store: a new key, and a certificate the CA signed for client and server authentication. */
    public Path writeNode(Node node) throws Exception {
        KeyPair kp = keyPair();
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), new Date(), until(days), new X500Name("CN=" + node.name()),
                kp.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.dNSName, node.name()));
        for (String h : node.hosts()) {
            boolean ip = h.matches("[0-9.]+") || h.contains(":");
            names.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, h));
        }
        for (String uri : io.splitfed.actors.cluster.NodeIdentity.grantUris(node.roles(), node.devices())) {
            names.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
        X509Certificate cert = sign(b, caKey);
        Path store = dir.resolve(node.name() + ".p12");
        KeyStore ks = emptyStore();
        char[] pw = newPassword(store);
        ks.setKeyEntry(node.name(), kp.getPrivate(), pw, new Certificate[] {cert, ca});
        save(ks, store, pw);
        return store;
    }

    public static Path passwordFile(Path store) {
        return store.resolveSibling(store.getFileName() + ".password");
    }

    /**
     * The {@code splitfed.node.tls} settings that run a node with the key store {@code store} and
     * the trust store {@code trust}, each with the password written beside it.
     */
    public static java.util.Map<String, String> nodeSettings(Path store, Path trust) throws IOException {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        out.put("splitfed.node.tls.key-store", store.toString());
        out.put("splitfed.node.tls.key-store-password", new String(readPassword(store)));
        out.put("splitfed.node.tls.trust-store", trust.toString());
        out.put("splitfed.node.tls.trust-store-password", new String(readPassword(trust)));
        return out;
    }

    private static KeyPair keyPair() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws Exception {
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
        return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM);
    }

    private static Date until(int days) {
        return Date.from(Instant.now().plus(Duration.ofDays(days)));
    }

    private static KeyStore emptyStore() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        return ks;
    }

    private static char[] newPassword(Path store) throws IOException {
        byte[] raw = new byte[24];
        RANDOM.nextBytes(raw);
        String pw = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Path file = passwordFile(store);
        Files.writeString(file, pw + "\n", StandardCharsets.UTF_8);
        ownerOnly(file, false);
        return pw.toCharArray();
    }

    private static char[] readPassword(Path store) throws IOException {
        Path file = passwordFile(store);
        if (!Files.isRegularFile(file)) {
            throw new UserError(store + ": its password file " + file + " is missing");
        }
        return Files.readString(file, StandardCharsets.UTF_8).trim().toCharArray();
    }

    private static void save(KeyStore ks, Path store, char[] pw) throws Exception {
        try (OutputStream out = Files.newOutputStream(store)) {
            ks.store(out, pw);
        }
        ownerOnly(store, false);
    }

    private static void ownerOnly(Path p, boolean directory) throws IOException {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(directory ? "rwx------" : "rw-------"));
        } catch (UnsupportedOperationException notPosix) {
            // a file system without POSIX permissions (Windows): its ACLs apply
        }
    }
}
