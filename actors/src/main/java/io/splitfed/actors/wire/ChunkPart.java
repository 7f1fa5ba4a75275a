package io.splitfed.actors.wire;

/**
 * One piece of a message too large for one Artery frame: the serialized message is cut into
 * parts that each fit, sent in order over the same association, and put back together by the
 * receiver ({@link Reassembler}). Micro-batches are bounded by the devices' credit windows, and
 * one that never completes is resent whole by its device after the ack timeout.
 */
public record ChunkPart(long transferId, int index, int count, byte[] bytes) implements WireMessage {}
