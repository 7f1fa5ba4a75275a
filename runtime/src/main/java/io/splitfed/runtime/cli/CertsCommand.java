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
        for (String spec : nodes) {
            ClusterCertificates.Node node = ClusterCertificates.Node.parse(spec);
            Path store = certs.writeNode(node);
            System.out.printf("%s: SPLITFED_KEYSTORE=%s SPLITFED_KEYSTORE_PASSWORD=\"$(cat %s)\" SPLITFED_TRUSTSTORE=%s SPLITFED_TRUSTSTORE_PASSWORD=\"$(cat %s)\"%n",
                    node.name(), store, ClusterCertificates.passwordFile(store), trust, ClusterCertificates.passwordFile(trust));
        }
        return 0;
    }
}
