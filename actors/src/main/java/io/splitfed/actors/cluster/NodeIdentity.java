package io.splitfed.actors.cluster;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a node's certificate lets it be, as NVFlare's provisioning does it: {@code splitfed certs}
 * writes the node's roles and device ids into its certificate (as subject-alternative-name URIs
 * {@code splitfed:roles:device,server} and {@code splitfed:devices:0-3}), the node signs each
 * registration with its key, binding it to its own address, and the job host accepts a
 * registration only when the certificate chains to the cluster's CA and names the role and device
 * claimed. A certificate that names no role grants any (material made before this, or on purpose).
 *
 * @param key this node's private key (null: this node does not sign)
 * @param certificate this node's certificate
 * @param trusted the cluster's CA certificates, which a registrant's certificate must chain to
 */
public record NodeIdentity(PrivateKey key, X509Certificate certificate, List<X509Certificate> trusted) {

    static final String ROLES = "splitfed:roles:";
    static final String DEVICES = "splitfed:devices:";
    private static final int URI_NAME = 6;

    /** A registration's proof: the registrant's certificate and its signature over what it claims from where. */
    public record Credential(byte[] certificate, byte[] signature) {}

    /** What a node signs: the claim, bound to its own address so that another node cannot replay it. */
    static byte[] claim(String address, String what) {
        return ("splitfed-registration\n" + address + "\n" + what).getBytes(StandardCharsets.UTF_8);
    }

    /** This node's credential for {@code what} (for example "device 3") from {@code address}. */
    Credential sign(String address, String what) {
        try {
            Signature s = Signature.getInstance(signatureAlgorithm(key.getAlgorithm()));
            s.initSign(key);
            s.update(claim(address, what));
            return new Credential(certificate.getEncoded(), s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign this node's registration with its key: " + e.getMessage(), e);
        }
    }

    /**
     * Why the job host refuses {@code credential} for {@code role} (and {@code device}, or -1) from
     * {@code address}; null when it accepts.
     */
    String refusal(Credential credential, String address, String role, int device) {
        if (credential == null) {
            return "this cluster runs TLS with node identities, and the registration carries no certificate (a node of an older splitfed?)";
        }
        X509Certificate cert;
        try {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(credential.certificate()));
        } catch (GeneralSecurityException e) {
            return "its certificate cannot be read: " + e.getMessage();
        }
        String subject = cert.getSubjectX500Principal().getName();
        if (!issuedByTrusted(cert)) {
            return "its certificate (" + subject + ") was not signed by this cluster's CA";
        }
        try {
            cert.checkValidity();
            Signature s = Signature.getInstance(signatureAlgorithm(cert.getPublicKey().getAlgorithm()));
            s.initVerify(cert.getPublicKey());
            s.update(claim(address, role + (device >= 0 ? " " + device : "")));
            if (!s.verify(credential.signature())) {
                return "its registration was not signed by the key of its certificate (" + subject + ") for " + address;
            }
        } catch (GeneralSecurityException e) {
            return "its certificate (" + subject + ") does not check: " + e.getMessage();
        }
        Set<String> roles = granted(cert, ROLES);
        if (!roles.isEmpty() && !roles.contains(role)) {
            return "its certificate (" + subject + ") grants roles " + roles + ", not " + role;
        }
        Set<String> devices = granted(cert, DEVICES);
        if (device >= 0 && !devices.isEmpty() && !covers(devices, device)) {
            return "its certificate (" + subject + ") names devices " + devices + ", not device " + device;
        }
        return null;
    }

    private boolean issuedByTrusted(X509Certificate cert) {
        for (X509Certificate ca : trusted) {
            try {
                if (cert.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
                    cert.verify(ca.getPublicKey());
                    return true;
                }
            } catch (GeneralSecurityException e) {
                // another CA of the same name: try the next
            }
        }
        return false;
    }

    /** The values of the certificate's {@code prefix} URIs, split on commas. */
    static Set<String> granted(X509Certificate cert, String prefix) {
        Set<String> out = new TreeSet<>();
        try {
            Collection<List<?>> names = cert.getSubjectAlternativeNames();
            if (names == null) {
                return out;
            }
            for (List<?> n : names) {
                if (((Integer) n.get(0)) == URI_NAME && n.get(1) instanceof String uri && uri.startsWith(prefix)) {
                    for (String v : uri.substring(prefix.length()).split(",")) {
                        if (!v.isBlank()) {
                            out.add(v.trim().toLowerCase(Locale.ROOT));
                        }
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            return out;
        }
        return out;
    }

    /** Whether {@code device} is one of {@code specs}: single ids or ranges {@code A-B}. */
    static boolean covers(Set<String> specs, int device) {
        for (String s : specs) {
            int dash = s.indexOf('-');
            try {
                if (dash < 0 ? Integer.parseInt(s) == device
                        : device >= Integer.parseInt(s.substring(0, dash)) && device <= Integer.parseInt(s.substring(dash + 1))) {
                    return true;
                }
            } catch (NumberFormatException e) {
                // not a device spec: grants nothing
            }
        }
        return false;
    }

    /** The URIs that grant {@code roles} and {@code devices} (each may be empty: no grant of that kind). */
    public static List<String> grantUris(Collection<String> roles, Collection<String> devices) {
        List<String> out = new ArrayList<>();
        if (!roles.isEmpty()) {
            out.add(ROLES + String.join(",", roles));
        }
        if (!devices.isEmpty()) {
            out.add(DEVICES + String.join(",", devices));
        }
        return out;
    }

    /** The signature algorithm for a key of {@code keyAlgorithm} (EC, RSA, Ed25519...). */
    public static String signatureAlgorithm(String keyAlgorithm) {
        return switch (keyAlgorithm) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> keyAlgorithm; // Ed25519 and its kin name their own signature
        };
    }
}
