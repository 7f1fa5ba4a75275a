package io.splitfed.actors;

import io.splitfed.actors.aggregator.Aggregator;
import io.splitfed.actors.checkpoint.JobCheckpoint;
import io.splitfed.actors.cluster.ClusterProtocol;
import io.splitfed.actors.cluster.ToShard;
import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.coordinator.RoundCoordinator;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.job.JobControl;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.server.ShardStore;
import io.splitfed.actors.wire.ChunkPart;
import io.splitfed.actors.wire.Claim;
import io.splitfed.actors.wire.WireRegistry;

import java.util.List;

/**
 * splitfed's protocols as they cross the wire: the roots that {@link WireRegistry} walks to
 * register every message class with Kryo, in this order (their ids follow it). It sits above every
 * actor package, so the wire package names none of them. Found through {@link java.util.ServiceLoader}.
 */
public final class Protocols implements WireRegistry.WireProtocol {

    @Override
    public List<Class<?>> roots() {
        return List.of(
                DeviceActor.Command.class,
                DeviceActor.Report.class,
                ServerShard.Command.class,
                ServerShard.Reply.class,
                ServerShard.Report.class,
                RoundCoordinator.Command.class,
                Aggregator.Command.class,
                Aggregator.Result.class,
                JobEvent.class,
                JobResult.class,
                JobControl.class,
                ClusterProtocol.class,
                ShardStore.Command.class,
                ShardStore.Reply.class,
                JobCheckpoint.class,
                ChunkPart.class,
                ToShard.class,
                Claim.class);
    }

    @Override
    public boolean core() {
        return true;
    }
}
