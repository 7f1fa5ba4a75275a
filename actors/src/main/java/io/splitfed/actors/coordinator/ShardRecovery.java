package io.splitfed.actors.coordinator;

import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.server.ServerShard;
import io.splitfed.actors.wire.Outbox;
import io.splitfed.model.lora.LoraAdapter;

import org.apache.pekko.actor.typed.ActorRef;

import java.util.List;
import java.util.Map;

/**
 * What the coordinator does when a shard comes back from the start of its round (its node died, or
 * a fault injection killed it): the shard is told the round again, every device it serves that ran
 * or finished the round runs it again from its first micro-batch (so what they send is trained
 * once), late devices of that shard run their own round again, and a round already closing waits
 * for those devices and then asks the shard for its report.
 */
final class ShardRecovery {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RoundCoordinator.class);

    private ShardRecovery() {}

    /** Rewinds {@code shard}, now {@code ref}, in {@code round}; returns the devices sent back to the round's start. */
    static List<Integer> rewind(Outbox outbox, int round, int shard, ActorRef<ServerShard.Command> ref, RoundLedger ledger, LateWork late,
            Membership members, Map<Integer, Integer> shardOf, LoraAdapter globalDevice, ActorRef<ServerShard.Report> reportTo) {
        LOG.warn("shard {} is back from the start of round {}; its devices run the round again", shard, round + 1);
        outbox.send(ref, new ServerShard.RoundStarted(round));
        List<Integer> rewound = ledger.rewind(shard, shardOf);
        rewound.forEach(d -> outbox.send(members.device(d), new DeviceActor.Rewind(round, ref, globalDevice, true)));
        // late devices of this shard run their own round again too (its global adapter is gone: they keep theirs)
        late.forEachBusy((d, theirs) -> {
            if (members.servedBy(d, shard)) {
                outbox.send(members.device(d), new DeviceActor.Rewind(theirs, ref, null, false));
            }
        });
        if (ledger.closing() && !ledger.hasShardReport(shard)) {
            if (rewound.isEmpty()) {
                outbox.send(ref, new ServerShard.CloseRound(round, reportTo));
            } else {
                // the close reached the shard's node too late, or its new incarnation (which drops a close sent before
                // the node died): the round goes on for this shard until its devices have sent the round again
                LOG.warn("round {} was closing: shard {} is asked for its report once devices {} have run the round again", round + 1, shard, rewound);
                ledger.reopen(shard, rewound);
            }
        }
        return rewound;
    }
}
