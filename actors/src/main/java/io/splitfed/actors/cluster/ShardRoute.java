package io.splitfed.actors.cluster;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Wire;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * A local stand-in for one sharded server shard: whatever it gets goes to the shard through the
 * shard region, wherever the shard lives now. Devices and the coordinator hold these, so the actors
 * written for one JVM need no change to talk across a cluster. Messages larger than a frame go
 * as parts, in order, through the same region.
 */
public final class ShardRoute {

    private ShardRoute() {}

    public static Behavior<ServerShard.Command> create(int shard) {
        return Behaviors.setup(ctx -> {
            EntityRef<ServerShard.Command> entity = ClusterSharding.get(ctx.getSystem()).entityRefFor(ServerShards.TYPE_KEY, ServerShards.entityId(shard));
            return Behaviors.receiveMessage(m -> {
                var parts = Wire.split(ctx.getSystem(), m);
                if (parts == null) {
                    entity.tell(m);
                } else {
                    EntityRef<Object> raw = ServerShards.untyped(entity); // the shard's Inbound edge takes the parts
                    parts.forEach(raw::tell);
                }
                return Behaviors.same();
            });
        });
    }
}
