package io.splitfed.actors.wire;

/**
 * Marks messages that may cross the wire between nodes; they are bound to splitfed's Kryo
 * serializer in reference.conf. Internal messages (tensor-thread results) are marked
 * {@link org.apache.pekko.actor.NoSerializationVerificationNeeded} instead and never leave a JVM.
 */
public interface WireMessage {

    /**
     * About how many bytes this message's tensors take on the wire, for messages that carry
     * activations or gradients; 0 for the rest. A message with bulk bytes goes whole on Artery's
     * large-message stream when its recipient is on it and it fits a frame (see {@code BulkLane}).
     */
    default long bulkBytes() {
        return 0;
    }
}
