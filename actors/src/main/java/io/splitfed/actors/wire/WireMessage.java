package io.splitfed.actors.wire;

/**
 * Marks messages that may cross the wire between nodes; they are bound to splitfed's Kryo
 * serializer in reference.conf. Internal messages (tensor-thread results) are marked
 * {@link org.apache.pekko.actor.NoSerializationVerificationNeeded} instead and never leave a JVM.
 */
public interface WireMessage {}
