package io.splitfed.actors.cluster;

import io.splitfed.actors.wire.WireMessage;

/**
 * A message for server shard {@code shard}, as the shard region takes it: a server shard's command,
 * or a part of one. splitfed's own envelope rather than Pekko's {@code ShardingEnvelope}: it is
 * written by splitfed's serializer in one pass, straight into Artery's frame, where Pekko's
 * protobuf envelope would serialize the micro-batch into an array first and copy it twice more on
 * each side.
 */
public record ToShard(int shard, Object message) implements WireMessage {

    @Override
    public long bulkBytes() {
        return message instanceof WireMessage w ? w.bulkBytes() : 0;
    }
}
