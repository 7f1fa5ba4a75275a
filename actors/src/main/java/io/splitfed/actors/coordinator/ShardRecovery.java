package io.splitfed.actors.coordinator;

import io.splitfed.model.lora.LoraAdapter;

import org.slf4j.Logger;

import java.util.List;
import java.util.Map;

/**
 * What the round policy decides when a shard comes back from the start of its round (its node
 * died, or a fault injection killed it): the shard is told the round again, every device it serves
 * that ran or finished the round runs it again from its first micro-batch (so what they send is
 * trained once), late devices of that shard run their own round again, and a round already closing
 * waits for those devices and then asks the shard for its report.
 */
final class ShardRecovery {

    private ShardRecovery() {}

    /** Rewinds {@code shard} in {@code round}, adding what must be done to {@code out}; returns the devices sent back to the round's start. */
    static List<Integer> rewind(int round, int shard, RoundLedger ledger, LateWork late, Map<Integer, Integer> shardOf, LoraAdapter globalDevice,
            List<RoundEffect> out, Logger log) {
        log.warn("shard {} is back from the start of round {}; its devices run the round again", shard, round + 1);
        out.add(new RoundEffect.ShardOpen(shard, round));
        List<Integer> rewound = ledger.rewind(shard, shardOf);
        rewound.forEach(d -> out.add(new RoundEffect.Rewind(d, round, globalDevice, true)));
        // late devices of this shard run their own round again too (its global adapter is gone: they keep theirs)
        late.forEachBusy((d, theirs) -> {
            if (shardOf.get(d) == shard) {
                out.add(new RoundEffect.Rewind(d, theirs, null, false));
            }
        });
        if (ledger.closing() && !ledger.hasShardReport(shard)) {
            if (rewound.isEmpty()) {
                out.add(new RoundEffect.CloseShards(round, List.of(shard)));
            } else {
                // the close reached the shard's node too late, or its new incarnation (which drops a close sent before
                // the node died): the round goes on for this shard until its devices have sent the round again
                log.warn("round {} was closing: shard {} is asked for its report once devices {} have run the round again", round + 1, shard, rewound);
                ledger.reopen(shard, rewound);
            }
        }
        return rewound;
    }
}
