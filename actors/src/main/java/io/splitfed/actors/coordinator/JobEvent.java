package io.splitfed.actors.coordinator;

import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.wire.WireMessage;

import java.util.List;

/** What the coordinator tells whoever watches a job (progress bars, metrics endpoints). */
public sealed interface JobEvent extends WireMessage {

    record RoundStarted(int round, int rounds, List<Integer> sampled, long microBatches) implements JobEvent {}

    /**
     * A device answered a micro-batch. {@code answered}, {@code microBatches} and {@code samples}
     * are the round's so far; the rest is {@code device}'s own round: answered of its steps, bytes
     * sent and received, micro-batches in flight, and the loss of its last local step (NaN where
     * the server computes the loss).
     */
    record Progress(int round, long answered, long microBatches, long samples, int device, int deviceAnswered, int deviceSteps,
            long bytesUp, long bytesDown, int inFlight, float loss) implements JobEvent {}

    /** A server shard's load, sampled every second while a listener watches: queued micro-batches, steps, last loss. */
    record ShardLoad(int shard, int queued, long steps, float loss) implements JobEvent {}

    record RoundClosed(RoundSummary summary) implements JobEvent {}

    record Finished(JobResult result) implements JobEvent {}

    /** A checkpoint after {@code roundsDone} rounds is on disk, in {@code file}. */
    record Checkpointed(int roundsDone, String file) implements JobEvent {}

    /**
     * Shard {@code shard} lost its node and runs again from the start of {@code round};
     * {@code rewound} are the devices sent back to that round's first micro-batch.
     */
    record ShardReplaced(int shard, int round, List<Integer> rewound) implements JobEvent {}

    record Failed(String reason) implements JobEvent {}
}
