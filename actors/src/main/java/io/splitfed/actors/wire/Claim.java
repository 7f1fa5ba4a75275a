package io.splitfed.actors.wire;

/**
 * What crosses Artery in place of a tensor message that goes by the {@link SideChannel}: where
 * the message waits ({@code host}:{@code port}, the sending node's side channel, {@code depot}
 * naming that channel), and its number there, {@code id}, unguessable. The recipient's
 * {@link Inbound} edge pulls the message and handles it in the claim's place.
 */
public record Claim(long id, String host, int port, long depot) implements WireMessage {}
