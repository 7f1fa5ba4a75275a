package io.splitfed.actors.coordinator;

import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.actors.wire.WireMessage;

import java.util.List;

/** What the coordinator tells whoever watches a job (progress bars, metrics endpoints). */
public sealed interface JobEvent extends WireMessage {

    record RoundStarted(int round, int rounds, List<Integer> sampled, long microBatches) implements JobEvent {}

    record Progress(int round, long answered, long microBatches, long samples, int device) implements JobEvent {}

    record RoundClosed(RoundSummary summary) implements JobEvent {}

    record Finished(JobResult result) implements JobEvent {}

    /** A checkpoint after {@code roundsDone} rounds is on disk, in {@code file}. */
    record Checkpointed(int roundsDone, String file) implements JobEvent {}

    record Failed(String reason) implements JobEvent {}
}
