package io.splitfed.actors.metrics;

/** When one micro-batch reached one stage of the pipeline. */
public record TimelineEvent(int device, int round, long seq, Stage stage, long micros, String where) {

    /** The life of a micro-batch, in order. */
    public enum Stage {
        /** The device part produced its activations (or read them from the cache). */
        COMPUTED,
        /** The device put the activations on its link. */
        SENT,
        /** The server shard took the micro-batch off its link. */
        RECEIVED,
        /** The server finished its training step. */
        TRAINED,
        /** The device got the answer (a credit, or the cut gradient). */
        ANSWERED
    }
}
