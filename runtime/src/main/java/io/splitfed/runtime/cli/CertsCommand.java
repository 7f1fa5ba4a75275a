package io.splitfed.runtime.cli;

import io.splitfed.runtime.node.ClusterCertificates;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code splitfed certs}: a cluster CA, and a key store for each node and one trust store, for Artery's TLS. */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = {"Make the TLS material for a cluster: a CA (kept in DIR/ca.p12, reused on the next run), a PKCS#12 key store",
            "per node (its key and a certificate the CA signed), one trust store holding the CA, and a random password for each.",
            "Nodes then run with cluster-config/tls.conf and SPLITFED_KEYSTORE, SPLITFED_KEYSTORE_PASSWORD, SPLITFED_TRUSTSTORE",
            "and SPLITFED_TRUSTSTORE_PASSWORD, as printed."})
public final class CertsCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, description = "Directory for the stores and passwords (created; readable by its owner only)")
    Path out;

    @Option(names = "--nodes", required = true, split = ",",
            description = "Node names, each optionally with its host names or addresses for the certificate: job-host=10.0.0.1,gpu-1=gpu1.lan")
    List<String> nodes;

    @Option(names = "--node-roles", description = "The roles a node's certificate grants, which the job host enforces: edge-1=device "
            + "(repeat per node; comma-separate several roles; default: any)")
    java.util.Map<String, String> roles = new java.util.LinkedHashMap<>();

    @Option(names = "--node-devices", description = "The device ids a node's certificate grants, which the job host enforces: edge-1=0-3 "
            + "or edge-2=4,5 (repeat per node; default: any)")
    java.util.Map<String, String> devices = new java.util.LinkedHashMap<>();

    @Option(names = "--days", description = "How long the certificates are valid (default: ${DEFAULT-VALUE})", defaultValue = "365")
    int days;

    @Override
    public Integer call() throws Exception {
        if (days < 1) {
            throw new UserError("--days " + days + ": expected at least 1");
        }
        ClusterCertificates certs = ClusterCertificates.openOrCreate(out, days);
        System.out.println((certs.createdCa() ? "made the cluster CA " : "using the cluster CA ") + out.resolve(ClusterCertificates.CA_STORE));
        Path trust = certs.writeTrustStore();
        java.util.Set<String> names = new java.util.HashSet<>();
        nodes.forEach(spec -> names.add(ClusterCertificates.Node.parse(spec).name()));
        for (String named : concat(roles.keySet(), devices.keySet())) {
            if (!names.contains(named)) {
                throw new UserError("--node-roles / --node-devices name node '" + named + "', which --nodes does not list (" + names + ")");
            }
        }
        for (String spec : nodes) {
            ClusterCertificates.Node node = ClusterCertificates.Node.parse(spec);
            node = node.granting(list(roles.get(node.name())), list(devices.get(node.name())));
            Path store = certs.writeNode(node);
            System.out.printf("%s: SPLITFED_KEYSTORE=%s SPLITFED_KEYSTORE_PASSWORD=\"$(cat %s)\" SPLITFED_TRUSTSTORE=%s SPLITFED_TRUSTSTORE_PASSWORD=\"$(cat %s)\"%n",
                    node.name(), store, ClusterCertificates.passwordFile(store), trust, ClusterCertificates.passwordFile(trust));
        }
        return 0;
    }

    private static List<String> list(String csv) {
        return csv == null ? List.of() : java.util.Arrays.stream(csv.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }

    private static List<String> concat(java.util.Collection<String> a, java.util.Collection<String> b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
