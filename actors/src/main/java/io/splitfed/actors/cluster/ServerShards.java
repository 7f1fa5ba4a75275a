package io.splitfed.actors.cluster;

import io.splitfed.actors.job.JobPlan;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.server.ShardStore;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The job's server shards as Cluster Sharding entities on the {@code server} role. Each LoRA worker
 * is a Pekko shard of its own, so a rebalance moves workers one by one across the GPU hosts.
 */
public final class ServerShards {

    public static final EntityTypeKey<ServerShard.Command> TYPE_KEY = EntityTypeKey.create(ServerShard.Command.class, "splitfed-server-shard");
    /** The shard region's path on every node (named in reference.conf's large-message destinations). */
    static final String REGION_PATH = "/system/sharding/" + TYPE_KEY.name();

    private ServerShards() {}

    static String entityId(int shard) {
        return Integer.toString(shard);
    }

    /**
     * Starts the region on a server node (it hosts shards) or its proxy elsewhere (it only routes).
     * On server nodes each shard is made from {@code plan}; elsewhere the plan is not used. When a
     * rebalance moves a shard, it finishes its step and leaves a snapshot in {@code store}, and
     * its next incarnation starts from it. The region takes {@link ToShard} envelopes.
     */
    public static ActorRef<ToShard> init(ActorSystem<?> system, JobPlan plan, String serverRole, ActorRef<ShardStore.Command> store) {
        return ClusterSharding.get(system).init(Entity.of(TYPE_KEY, ctx -> ServerShard.create(plan.shardState(Integer.parseInt(ctx.getEntityId())).storedIn(store)))
                .withRole(serverRole)
                .withStopMessage(new ServerShard.HandOff())
                .withMessageExtractor(new OneWorkerPerShard<ServerShard.Command>()));
    }

    /** This node's region (or proxy), once {@link #init} has run: it takes {@link ToShard} envelopes. */
    static org.apache.pekko.actor.ActorRef region(ActorSystem<?> system) {
        return org.apache.pekko.cluster.sharding.ClusterSharding.get(Adapter.toClassic(system)).shardRegion(TYPE_KEY.name());
    }

    /**
     * The shard id is the entity id: one worker per Pekko shard. Generic so that a chunk part, which is no
     * {@code ServerShard.Command}, passes through to the worker unchecked, where its {@code Inbound}
     * edge puts the whole message back together.
     */
    static final class OneWorkerPerShard<M> extends ShardingMessageExtractor<ToShard, M> {
        @Override
        public String entityId(ToShard envelope) {
            return ServerShards.entityId(envelope.shard());
        }

        @Override
        public String shardId(String entityId) {
            return entityId;
        }

        @Override
        @SuppressWarnings("unchecked")
        public M unwrapMessage(ToShard envelope) {
            return (M) envelope.message(); // erased: no cast at run time, so a part passes
        }
    }
}
