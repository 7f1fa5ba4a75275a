package io.splitfed.actors.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * The pulling end of a side channel: one connection to one node's {@link SideChannelServer}.
 * Requests go out as they come, without waiting for earlier answers, so the serving node writes
 * the next message while this one decodes the last; a reader thread takes the answers in order.
 * A broken connection fails what it had pending (their devices resend) and the next pull opens
 * a new one; an answer overdue by {@code timeout} breaks it.
 */
final class SideChannelFetcher {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SideChannelFetcher.class);

    private record Pending(long id, CompletableFuture<Object> result, long since) {}

    private final String host;
    private final int port;
    private final SideChannelTls tls;
    private final KryoSerializer kryo;
    private final long timeoutNanos;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private SideChannelLink link;
    private volatile boolean closed;

    SideChannelFetcher(String host, int port, SideChannelTls tls, KryoSerializer kryo, Duration timeout) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.kryo = kryo;
        this.timeoutNanos = timeout.toNanos();
    }

    boolean isClosed() {
        return closed;
    }

    /** Asks for claim {@code id}; {@code result} completes with the message, or fails. */
    synchronized void request(long id, CompletableFuture<Object> result) {
        if (closed) {
            result.completeExceptionally(new IOException("the connection to " + host + ":" + port + " closed"));
            return;
        }
        pending.add(new Pending(id, result, System.nanoTime()));
        try {
            if (link == null) {
                link = SideChannelLink.connect(host, port, tls, (int) Math.min(Integer.MAX_VALUE, timeoutNanos / 1_000_000));
                LOG.debug("pulling from the side channel at {}:{}", host, port);
                SideChannelLink reading = link;
                Thread reader = new Thread(() -> read(reading), "splitfed-side-channel-pull-" + host + ":" + port);
                reader.setDaemon(true);
                reader.start();
            }
            link.write(ByteBuffer.allocate(8).putLong(id).flip());
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
    }

    private void read(SideChannelLink from) {
        try {
            ByteBuffer head = from.allocate(4);
            ByteBuffer frame = from.allocate(1 << 20);
            while (true) {
                head.clear();
                from.readFully(head);
                int length = head.flip().getInt();
                Pending p;
                synchronized (this) {
                    p = pending.poll();
                }
                if (p == null) {
                    throw new IOException("an answer nobody asked for");
                }
                if (length < 0) {
                    p.result().completeExceptionally(new IOException("claim " + p.id() + " is not held there: already pulled, or dropped after splitfed.wire.side-channel.hold"));
                    continue;
                }
                if (length > Reassembler.MAX_MESSAGE_BYTES) {
                    throw new IOException("a frame of " + length + " bytes, more than " + Reassembler.MAX_MESSAGE_BYTES);
                }
                if (frame.capacity() < length) {
                    frame = from.allocate(length);
                }
                frame.clear().limit(length);
                from.readFully(frame);
                frame.flip();
                Object message;
                try {
                    message = kryo.fromBinary(frame, "");
                } catch (RuntimeException | LinkageError e) {
                    p.result().completeExceptionally(new IOException("claim " + p.id() + ": not a message (" + e + ")"));
                    continue;
                }
                p.result().complete(message);
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.debug("side channel to {}:{} broke: {}", host, port, e.toString());
            }
            fail(e);
        }
    }

    /** Breaks the connection when its oldest answer is overdue. */
    void expire() {
        Pending oldest;
        synchronized (this) {
            oldest = pending.peek();
        }
        if (oldest != null && System.nanoTime() - oldest.since() > timeoutNanos) {
            fail(new IOException("no answer from " + host + ":" + port + " within " + Duration.ofNanos(timeoutNanos)));
        }
    }

    void close() {
        fail(new IOException("closed"));
    }

    private void fail(Exception cause) {
        ArrayDeque<Pending> failed;
        synchronized (this) {
            closed = true;
            if (link != null) {
                link.close();
            }
            failed = new ArrayDeque<>(pending);
            pending.clear();
        }
        failed.forEach(p -> p.result().completeExceptionally(cause));
    }
}
