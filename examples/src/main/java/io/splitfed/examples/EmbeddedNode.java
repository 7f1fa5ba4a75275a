package io.splitfed.examples;

import io.splitfed.actors.cluster.SplitfedNode;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.Callbacks;
import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.job.JobControl;
import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.job.JobPreparation;
import io.splitfed.actors.job.JobSpec;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.serialization.SerializationExtension;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A host Pekko application with its own ActorSystem and config (src/main/resources/application.conf)
 * that makes itself a splitfed node with every role, trains a small SST-2 job, and prints the
 * result. splitfed's behaviours are spawned under the host's own guardian; the host's settings
 * and serializers stay as they were.
 */
public final class EmbeddedNode {

    private EmbeddedNode() {}

    public static void main(String[] args) throws Exception {
        JobResult r = run(ConfigFactory.empty());
        System.out.printf("embedded splitfed job done: %d rounds, accuracy %.4f%n", r.rounds().size(), r.finalAccuracy());
    }

    /** Runs the host application; {@code jobOverrides} go over the splitfed.job of its application.conf. */
    public static JobResult run(Config jobOverrides) throws Exception {
        Config hostConfig = ConfigFactory.load();
        // the job is read from the host's application.conf, under splitfed.job, over splitfed's defaults
        JobPlan plan = new JobPlan(JobPreparation.prepare(JobSpec.fromConfig(JobConfig.load(jobOverrides))));
        CompletableFuture<JobResult> result = new CompletableFuture<>();
        Behavior<Void> guardian = Behaviors.setup(ctx -> {
            // a single-node cluster: join ourselves (a real deployment lists seed nodes instead)
            Cluster cluster = Cluster.get(ctx.getSystem());
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
            ActorRef<JobResult> results = ctx.spawn(Callbacks.<JobResult>to(result::complete), "job-results");
            ActorRef<SplitfedNode.Status> status = ctx.spawn(Callbacks.<SplitfedNode.Status>to(s -> {
                if (s instanceof SplitfedNode.Status.Failed f) {
                    result.completeExceptionally(new IllegalStateException(f.reason()));
                }
            }), "splitfed-status");
            ctx.spawn(SplitfedNode.create(plan, SplitfedNode.Node.of(List.of(0, 1), status).withResult(results, null)), "splitfed");
            return Behaviors.empty();
        });
        ActorSystem<Void> system = ActorSystem.create(guardian, hostConfig.getString("host-app.system-name"), hostConfig);
        try {
            var serialization = SerializationExtension.get(Adapter.toClassic(system));
            System.out.println("host setting host-app.greeting = " + system.settings().config().getString("host-app.greeting"));
            System.out.println("a String is serialized by " + serialization.findSerializerFor("text").getClass().getSimpleName()
                    + ", a splitfed message by " + serialization.findSerializerFor(new JobControl.StopDevice(0)).getClass().getSimpleName());
            return result.get(10, TimeUnit.MINUTES);
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        }
    }
}
