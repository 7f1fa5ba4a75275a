package io.splitfed.actors.metrics;

/**
 * When one micro-batch reached one stage of the pipeline.
 *
 * @param spanMicros how long the compute that ended here took: the device's forward (or a
 *     FedLoRA device's whole local step) at {@link Stage#COMPUTED}, its backward at
 *     {@link Stage#BACKWARD}, the server's step at {@link Stage#STEP} and {@link Stage#TRAINED};
 *     0 for the other stages
 */
public record TimelineEvent(int device, int round, long seq, Stage stage, long micros, String where, long spanMicros) {

    /** An instant: a stage reached with no compute behind it (sent, received, answered). */
    public TimelineEvent(int device, int round, long seq, Stage stage, long micros, String where) {
        this(device, round, seq, stage, micros, where, 0);
    }

    /** The life of a micro-batch, in order. */
    public enum Stage {
        /** The device part produced its activations (or read them from the cache); FedLoRA: its local step ended. */
        COMPUTED,
        /** The device put the activations on its link. */
        SENT,
        /** The server shard took the micro-batch off its link. */
        RECEIVED,
        /** The server finished its training step. */
        TRAINED,
        /** The device got the answer (a credit, or the cut gradient). */
        ANSWERED,
        /** SFL: the device finished its backward pass through its own blocks. */
        BACKWARD,
        /**
         * A server step ended (device and seq: its first micro-batch). A mixed SplitFrozen step
         * trains rows of several micro-batches, which are {@link #TRAINED} only once all their rows are.
         */
        STEP
    }
}
