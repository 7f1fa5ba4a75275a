package io.splitfed.runtime.node;

import io.splitfed.runtime.cli.UserError;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

/**
 * How a node secures its port, decided at start. TLS is the default: a node uses the stores of
 * {@code splitfed certs} ({@code splitfed.node.tls}, or {@code cluster-config/tls.conf}); a node
 * that runs alone (every role, and itself its only seed, as the all-in-one config does) makes an
 * ephemeral CA, key and certificate of its own at start, which no other process has, so hostile
 * traffic on its port meets a TLS handshake, never Pekko's framing. Plain TCP needs an explicit
 * {@code --insecure}, on loopback too; any other node without material is refused, naming the
 * command that makes it.
 */
public final class NodeTls {

    /** How the node's port is secured. */
    public enum Mode {
        /** The stores {@code splitfed certs} made, through {@code splitfed.node.tls}. */
        STORES,
        /** Pekko's own {@code tls-tcp} settings ({@code cluster-config/tls.conf}). */
        PEKKO,
        /** A node alone: a CA, key and certificate made at start, for this process only. */
        EPHEMERAL,
        /** Plain TCP, as the operator asked with {@code --insecure}. */
        INSECURE
    }

    private NodeTls() {}

    /** The mode for a node with these settings; refuses a node of a multi-node cluster with no material and no {@code --insecure}. */
    static Mode decide(Config config, Set<String> roles, String host, int port, List<String> seeds) {
        Config n = config.getConfig("splitfed.node");
        if (!n.getString("tls.key-store").isEmpty()) {
            return Mode.STORES;
        }
        String transport = config.hasPath("pekko.remote.artery.transport") ? config.getString("pekko.remote.artery.transport") : "tcp";
        if ("tls-tcp".equals(transport)) {
            return Mode.PEKKO;
        }
        if (n.getBoolean("insecure")) {
            return Mode.INSECURE;
        }
        if (alone(roles, host, port, seeds)) {
            return Mode.EPHEMERAL;
        }
        if (!NodeSettings.loopback(host)) {
            throw new UserError("splitfed.node.host = " + host + " is reachable from other machines, and the node has no TLS: include "
                    + "cluster-config/tls.conf with the stores `splitfed certs` makes, or pass --insecure (splitfed.node.insecure = on) on a network you trust");
        }
        throw new UserError("this node (roles " + String.join(",", roles) + ") joins a cluster of several nodes and has no TLS material: make it with "
                + "`splitfed certs --out pki --nodes NAME,...` and start each node with the SPLITFED_KEYSTORE... lines it prints and "
                + "cluster-config/tls.conf, or pass --insecure (splitfed.node.insecure = on): plain TCP lets any process that reaches the port "
                + "join the cluster and send it frames");
    }

    /** Every role, and this node its own only seed: nothing else may join it. */
    static boolean alone(Set<String> roles, String host, int port, List<String> seeds) {
        return roles.containsAll(io.splitfed.actors.cluster.SplitfedNode.ROLES) && seeds.size() == 1
                && seeds.get(0).equals("pekko://" + NodeSettings.SYSTEM + "@" + host + ":" + port);
    }

    /**
     * {@code splitfed.node.tls} settings for stores made now, for this process alone: a CA, this
     * node's key and certificate, and a trust store of that CA, in a directory only its owner can
     * read, deleted when the JVM exits.
     */
    static Config ephemeral(String host) {
        try {
            Path dir = Files.createTempDirectory("splitfed-tls-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            dir.toFile().deleteOnExit(); // registered first, deleted last, after its files
            ClusterCertificates ca = ClusterCertificates.openOrCreate(dir, 2);
            Path trust = ca.writeTrustStore();
            Path key = ca.writeNode(new ClusterCertificates.Node("node", List.of(host)));
            try (var files = Files.list(dir)) {
                files.forEach(f -> f.toFile().deleteOnExit());
            }
            return ConfigFactory.parseMap(ClusterCertificates.nodeSettings(key, trust));
        } catch (IOException e) {
            throw new UserError("cannot make this node's ephemeral TLS material in the temporary directory: " + e.getMessage());
        } catch (Exception e) {
            throw new IllegalStateException("cannot make this node's ephemeral TLS material: " + e.getMessage(), e);
        }
    }
}
