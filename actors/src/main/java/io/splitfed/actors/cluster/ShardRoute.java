package io.splitfed.actors.cluster;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Outbox;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A local stand-in for one sharded server shard: whatever it gets goes to the shard through the
 * shard region, wherever the shard lives now. Devices and the coordinator hold these, so the actors
 * written for one JVM need no change to talk across a cluster. What the sender's {@link Outbox}
 * already cut into parts or claims goes on as it came, in order; a whole message goes as the Outbox
 * would send it to the region.
 */
public final class ShardRoute {

    private ShardRoute() {}

    public static Behavior<ServerShard.Command> create(int shard) {
        Behavior<Object> route = Behaviors.setup(ctx -> {
            Outbox outbox = Outbox.get(ctx.getSystem());
            org.apache.pekko.actor.ActorRef[] region = new org.apache.pekko.actor.ActorRef[1]; // looked up at the first message: the region starts after the node's routes
            return Behaviors.receiveMessage(m -> {
                if (region[0] == null) {
                    region[0] = ServerShards.region(ctx.getSystem());
                }
                outbox.sendThrough(region[0], ServerShards.REGION_PATH, m, part -> new ToShard(shard, part));
                return Behaviors.same();
            });
        });
        return route.<ServerShard.Command>narrow();
    }
}
