package io.splitfed.actors.cluster;

import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Wire;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A local stand-in for one sharded server shard: whatever it gets goes to the shard through the
 * shard region, wherever the shard lives now. Devices and the coordinator hold these, so the actors
 * written for one JVM need no change to talk across a cluster. Micro-batches go whole on Artery's
 * large-message stream, which reference.conf opens to the region; other messages larger than a frame
 * go as parts, in order, through the same region.
 */
public final class ShardRoute {

    private ShardRoute() {}

    public static Behavior<ServerShard.Command> create(int shard) {
        return Behaviors.setup(ctx -> {
            org.apache.pekko.actor.ActorRef[] region = new org.apache.pekko.actor.ActorRef[1]; // looked up at the first message: the region starts after the node's routes
            return Behaviors.receiveMessage(m -> {
                if (region[0] == null) {
                    region[0] = ServerShards.region(ctx.getSystem());
                }
                var parts = Wire.split(ctx.getSystem(), ServerShards.REGION_PATH, m);
                if (parts == null) {
                    region[0].tell(new ToShard(shard, m), org.apache.pekko.actor.ActorRef.noSender());
                } else {
                    parts.forEach(p -> region[0].tell(new ToShard(shard, p), org.apache.pekko.actor.ActorRef.noSender()));
                }
                return Behaviors.same();
            });
        });
    }
}
