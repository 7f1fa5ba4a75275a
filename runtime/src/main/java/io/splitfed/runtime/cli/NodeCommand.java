package io.splitfed.runtime.cli;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.runtime.job.JobRunner;
import io.splitfed.runtime.node.NodeSettings;
import io.splitfed.runtime.node.SplitfedNodeSystem;
import io.splitfed.runtime.report.JobMetrics;
import io.splitfed.runtime.report.Summary;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Starts one cluster node of a job: an edge host's devices, a GPU host's shards, or the job host. */
@Command(name = "node", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Start a cluster node: device (edge host), server (GPU host) or aggregator (job host), or several roles at once.",
            "The same --config file serves every host; --role, --host, --port, --seed-nodes and --node-devices (or SPLITFED_ROLES, SPLITFED_HOST,",
            "SPLITFED_PORT, SPLITFED_SEED_NODES, SPLITFED_DEVICES) tell hosts apart. See cluster-config/."})
public final class NodeCommand implements Callable<Integer> {

    @Option(names = "--role", description = "device, server or aggregator; several comma-separated")
    String role;

    @Option(names = "--host", description = "Address other nodes reach this one at (default: 127.0.0.1)")
    String host;

    @Option(names = "--port", description = "Artery TCP port (default: 25520)")
    Integer port;

    @Option(names = "--seed-nodes", description = "Comma-separated pekko://splitfed@HOST:PORT")
    String seedNodes;

    @Option(names = "--node-devices", description = "Device role: the devices this host runs, 0,1 or 0-3 (--devices is the job's device count)")
    String devices;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--insecure", description = "Listen on a non-loopback address without TLS (on a network you trust)")
    boolean insecure;

    @Mixin
    JobOptions job;

    @Override
    public Integer call() throws Exception {
        Config config = config();
        NodeSettings settings = NodeSettings.from(config);
        io.splitfed.runtime.data.DataRoot.requireJobData(config);
        Config pekko = settings.pekkoConfig(config);
        io.splitfed.model.tensor.TensorExecutor.shared().place(pekko.getString("splitfed.engine.device")); // before the model loads
        io.splitfed.model.tensor.TensorExecutor.shared().holdBaseIn(pekko.getString("splitfed.engine.base-precision"));
        PreparedJob prepared = JobPreparation.prepare(JobSpec.fromConfig(pekko));
        if (settings.roles().contains(io.splitfed.actors.cluster.SplitfedNode.AGGREGATOR)) {
            io.splitfed.runtime.job.StopSignals.watch(prepared.spec().checkpoint().dir()); // the job host's checkpoints
        }
        try (SplitfedNodeSystem node = SplitfedNodeSystem.start(new JobPlan(prepared), settings, pekko)) {
            System.out.println("splitfed node " + node.address() + " ready: roles " + settings.roles()
                    + (settings.devices().isEmpty() ? "" : ", devices " + settings.devices()) + ", job host " + node.jobHost() + ", " + switch (settings.security()) {
                        case STORES, PEKKO -> "TLS with the cluster's certificates";
                        case EPHEMERAL -> "TLS with a key made for this node alone";
                        case INSECURE -> "plain TCP (--insecure: any process that reaches the port can join and send frames)";
                    });
            JobResult result = node.awaitEnd();
            if (io.splitfed.runtime.job.StopSignals.stopping()) {
                return 0; // the stop line said what there is to say; the JVM exits 143 or 130
            }
            if (result != null) {
                Path metrics = settings.out().resolve("metrics.json");
                Path adapter = settings.out().resolve("adapter");
                JobMetrics m = JobRunner.writeOutputs(pekko, prepared, result, metrics, adapter);
                System.out.print(Summary.render(prepared.spec(), m, "metrics " + metrics + "\nadapter " + adapter + " (PEFT layout)\n"));
            } else if (node.abandonedBecause() != null) {
                spec.commandLine().getErr().println("splitfed node: " + node.abandonedBecause());
                return 3;
            } else if (!node.jobFinished()) {
                var checkpoints = prepared.spec().checkpoint();
                spec.commandLine().getErr().println("splitfed node: the job host (" + node.jobHost() + ") was lost before the job finished; "
                        + (checkpoints.enabled() ? "start a node with role aggregator and splitfed.job.checkpoint.resume = on to go on from the newest checkpoint in "
                                + checkpoints.dir() : "its progress is lost (set splitfed.job.checkpoint.dir to be able to resume)")
                        + "; a second node with role aggregator in the cluster takes over by itself");
                return 3;
            }
        }
        return 0;
    }

    /** The job's config with this node's flags over it. */
    Config config() {
        return nodeFlags().withFallback(job.config()).resolve();
    }

    private Config nodeFlags() {
        Config c = ConfigFactory.empty();
        c = set(c, "roles", role);
        c = set(c, "host", host);
        c = set(c, "port", port);
        c = set(c, "seed-nodes", seedNodes);
        c = set(c, "devices", devices);
        c = set(c, "insecure", insecure ? Boolean.TRUE : null);
        return c;
    }

    private static Config set(Config c, String key, Object value) {
        return value == null ? c : c.withValue("splitfed.node." + key, ConfigValueFactory.fromAnyRef(value));
    }
}
