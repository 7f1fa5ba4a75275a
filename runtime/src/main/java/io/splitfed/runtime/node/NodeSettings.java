package io.splitfed.runtime.node;

import io.splitfed.actors.cluster.SplitfedNode;
import io.splitfed.runtime.cli.UserError;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A node's place in the cluster, read from {@code splitfed.node} and checked before anything
 * starts: every mistake is reported with the setting that holds it and what was expected.
 *
 * @param metricsPort where the job host's node serves live Prometheus metrics; -1 off, 0 a free port
 * @param security how its port is secured: TLS with stores, Pekko's TLS settings, an ephemeral key
 *     for a node alone, or plain TCP by {@code --insecure} ({@link NodeTls})
 */
public record NodeSettings(Set<String> roles, String host, int port, List<String> seedNodes, List<Integer> devices,
        Duration joinTimeout, Duration registrationTimeout, Path out, int metricsPort, NodeTls.Mode security) {

    static final String SYSTEM = "splitfed";
    private static final String PEKKO_SSL = "pekko.remote.artery.ssl.config-ssl-engine.";

    public static NodeSettings from(Config config) {
        Config n = config.getConfig("splitfed.node");
        Set<String> roles = new LinkedHashSet<>();
        for (String r : split(string(n, "roles"))) {
            String role = r.toLowerCase(Locale.ROOT);
            if (!SplitfedNode.ROLES.contains(role)) {
                throw new UserError("splitfed.node.roles: unknown role '" + r + "' (expected device, server or aggregator, or several of them comma-separated)");
            }
            roles.add(role);
        }
        if (roles.isEmpty()) {
            throw new UserError("splitfed.node.roles is empty: give --role device, server or aggregator (or set SPLITFED_ROLES)");
        }
        int port = integer(n, "port");
        if (port < 0 || port > 65535) {
            throw new UserError("splitfed.node.port = " + port + ": expected a TCP port, 0 to 65535");
        }
        List<String> seeds = new ArrayList<>();
        List<String> given = split(string(n, "seed-nodes"));
        for (int i = 0; i < given.size(); i++) {
            String s = given.get(i);
            Address a;
            try {
                a = AddressFromURIString.parse(s);
            } catch (Exception e) { // Scala throws java.net.MalformedURLException unchecked
                throw new UserError("splitfed.node.seed-nodes[" + i + "] = '" + s + "': expected pekko://" + SYSTEM + "@HOST:PORT");
            }
            if (!a.system().equals(SYSTEM) || a.host().isEmpty() || a.port().isEmpty() || !a.protocol().equals("pekko")) {
                throw new UserError("splitfed.node.seed-nodes[" + i + "] = '" + s + "': expected pekko://" + SYSTEM + "@HOST:PORT (system name "
                        + SYSTEM + ", host and port)");
            }
            seeds.add(s);
        }
        if (seeds.isEmpty()) {
            throw new UserError("splitfed.node.seed-nodes is empty: give --seed-nodes pekko://" + SYSTEM + "@HOST:PORT (or set SPLITFED_SEED_NODES)");
        }
        List<Integer> devices = devices(string(n, "devices"));
        if (roles.contains(SplitfedNode.DEVICE) && devices.isEmpty()) {
            throw new UserError("splitfed.node.devices is empty but this node has role device: give --node-devices 0,1 or 0-3 (or set SPLITFED_DEVICES)");
        }
        int jobDevices = config.getInt("splitfed.job.federation.devices");
        for (int d : devices) {
            if (d >= jobDevices) {
                throw new UserError("splitfed.node.devices names device " + d + " but splitfed.job.federation.devices = " + jobDevices + " (devices 0.." + (jobDevices - 1) + ")");
            }
        }
        String host = string(n, "host");
        String transport = config.hasPath("pekko.remote.artery.transport") ? config.getString("pekko.remote.artery.transport") : "tcp";
        Config tls = n.getConfig("tls");
        boolean stores = !tls.getString("key-store").isEmpty();
        if (stores) {
            for (String k : List.of("key-store", "trust-store")) {
                Path p = Path.of(tls.getString(k));
                if (tls.getString(k).isEmpty() || !Files.isRegularFile(p)) {
                    throw new UserError("splitfed.node.tls." + k + " = '" + tls.getString(k) + "': expected the PKCS#12 file `splitfed certs` made"
                            + " (SPLITFED_" + k.replace("-", "").toUpperCase(Locale.ROOT) + ")");
                }
            }
            java.util.Date now = new java.util.Date();
            KeyMaterial.checkKeyStore(Path.of(tls.getString("key-store")), tls.getString("key-store-password"), "splitfed.node.tls.key-store",
                    "splitfed.node.tls.key-store-password (SPLITFED_KEYSTORE_PASSWORD)", now);
            KeyMaterial.checkTrustStore(Path.of(tls.getString("trust-store")), tls.getString("trust-store-password"), "splitfed.node.tls.trust-store",
                    "splitfed.node.tls.trust-store-password (SPLITFED_TRUSTSTORE_PASSWORD)", now);
        } else if ("tls-tcp".equals(transport) && config.hasPath(PEKKO_SSL + "key-store")
                && config.getString("pekko.remote.artery.ssl.ssl-engine-provider").endsWith(".ConfigSSLEngineProvider")) {
            // cluster-config/tls.conf: Pekko's own settings, filled from the same environment variables
            Config ssl = config.getConfig(PEKKO_SSL.substring(0, PEKKO_SSL.length() - 1));
            java.util.Date now = new java.util.Date();
            KeyMaterial.checkKeyStore(Path.of(ssl.getString("key-store")), ssl.getString("key-store-password"), PEKKO_SSL + "key-store",
                    PEKKO_SSL + "key-store-password (SPLITFED_KEYSTORE_PASSWORD)", now);
            if (ssl.hasPath("trust-store")) {
                KeyMaterial.checkTrustStore(Path.of(ssl.getString("trust-store")), ssl.getString("trust-store-password"), PEKKO_SSL + "trust-store",
                        PEKKO_SSL + "trust-store-password (SPLITFED_TRUSTSTORE_PASSWORD)", now);
            }
        }
        NodeTls.Mode security = NodeTls.decide(config, roles, host, port, seeds);
        int metricsPort = integer(n, "metrics-port");
        if (metricsPort < -1 || metricsPort > 65535) {
            throw new UserError("splitfed.node.metrics-port = " + metricsPort + ": expected -1 (off), 0 (a free port) or a TCP port up to 65535");
        }
        return new NodeSettings(roles, string(n, "host"), port, seeds, devices, duration(n, "join-timeout"), duration(n, "registration-timeout"),
                Path.of(string(n, "out")), metricsPort, security);
    }

    /** The Pekko settings this node runs with, over {@code config}; a node alone gets its ephemeral TLS material here. */
    public Config pekkoConfig(Config config) {
        if (security == NodeTls.Mode.EPHEMERAL) {
            config = NodeTls.ephemeral(host).withFallback(config);
        }
        StringBuilder sb = new StringBuilder();
        sb.append("pekko.actor.provider = cluster\n");
        if (!config.hasPath("pekko.cluster.downing-provider-class") || config.getString("pekko.cluster.downing-provider-class").isEmpty()) {
            sb.append("pekko.cluster.downing-provider-class = \"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"\n");
        }
        sb.append("pekko.remote.artery.canonical.hostname = \"").append(host).append("\"\n");
        sb.append("pekko.remote.artery.canonical.port = ").append(port).append('\n');
        sb.append("pekko.cluster.roles = [");
        sb.append(String.join(", ", roles.stream().map(r -> "\"" + r + "\"").toList())).append("]\n");
        sb.append("pekko.cluster.seed-nodes = [");
        sb.append(String.join(", ", seedNodes.stream().map(s -> "\"" + s + "\"").toList())).append("]\n");
        Config tls = config.getConfig("splitfed.node.tls");
        if (!tls.getString("key-store").isEmpty()) {
            // the stores `splitfed certs` made: TLS 1.3 with mutual authentication, as cluster-config/tls.conf
            String e = "pekko.remote.artery.ssl.config-ssl-engine.";
            Config ssl = ConfigFactory.parseMap(java.util.Map.of(
                    "pekko.remote.artery.transport", "tls-tcp",
                    e + "key-store", tls.getString("key-store"),
                    e + "key-store-password", tls.getString("key-store-password"),
                    e + "key-password", tls.getString("key-store-password"),
                    e + "trust-store", tls.getString("trust-store"),
                    e + "trust-store-password", tls.getString("trust-store-password"),
                    e + "protocol", "TLSv1.3",
                    e + "enabled-algorithms", List.of("TLS_AES_256_GCM_SHA384"),
                    e + "require-mutual-authentication", true));
            return ConfigFactory.parseString(sb.toString()).withFallback(ssl).withFallback(config);
        }
        return ConfigFactory.parseString(sb.toString()).withFallback(config);
    }

    /** Whether {@code host} names this machine only: localhost or a loopback address. */
    static boolean loopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            return host.matches("[0-9.]+|.*:.*") && java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    static List<Integer> devices(String spec) {
        List<Integer> out = new ArrayList<>();
        for (String part : split(spec)) {
            try {
                int dash = part.indexOf('-');
                if (dash > 0) {
                    int from = Integer.parseInt(part.substring(0, dash).trim());
                    int to = Integer.parseInt(part.substring(dash + 1).trim());
                    for (int d = from; d <= to; d++) {
                        out.add(d);
                    }
                } else {
                    out.add(Integer.parseInt(part));
                }
            } catch (NumberFormatException e) {
                throw new UserError("splitfed.node.devices: '" + part + "' is not a device number or range (expected e.g. 0,1 or 0-3)");
            }
        }
        return out;
    }

    private static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        for (String p : s.split(",")) {
            if (!p.isBlank()) {
                out.add(p.trim());
            }
        }
        return out;
    }

    private static String string(Config n, String key) {
        try {
            return n.getValue(key).unwrapped().toString();
        } catch (ConfigException e) {
            throw new UserError("splitfed.node." + key + ": " + e.getMessage());
        }
    }

    private static int integer(Config n, String key) {
        try {
            return n.getInt(key);
        } catch (ConfigException e) {
            throw new UserError("splitfed.node." + key + " = '" + n.getValue(key).unwrapped() + "': expected a number");
        }
    }

    private static Duration duration(Config n, String key) {
        try {
            return n.getDuration(key);
        } catch (ConfigException e) {
            throw new UserError("splitfed.node." + key + ": expected a duration such as 30s (" + e.getMessage() + ")");
        }
    }
}
