package io.splitfed.actors.wire;

import com.esotericsoftware.kryo.KryoException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * The pulling end of a side channel: one connection to one node's {@link SideChannelServer}.
 * Requests go out as they come, without waiting for earlier answers; a reader thread decodes the
 * answers in order, as their bytes arrive.
 * A broken connection fails what it had pending (their devices resend) and the next pull opens
 * a new one; an answer overdue by {@code timeout} breaks it, and a connection unused for
 * {@code idle} is closed.
 */
final class SideChannelFetcher {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SideChannelFetcher.class);

    private record Pending(long id, CompletableFuture<Object> result, long since) {}

    private final String host;
    private final int port;
    private final SideChannelTls tls;
    private final KryoSerializer kryo;
    private final long timeoutNanos;
    private final long idleNanos;
    private volatile long lastAsked = System.nanoTime();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private volatile SideChannelLink link;
    private volatile boolean closed;

    SideChannelFetcher(String host, int port, SideChannelTls tls, KryoSerializer kryo, Duration timeout, Duration idle) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.kryo = kryo;
        this.timeoutNanos = timeout.toNanos();
        this.idleNanos = idle.toNanos();
    }

    boolean isClosed() {
        return closed;
    }

    /** Whether a request now is a write on an open connection (no connecting). */
    boolean isConnected() {
        return !closed && link != null;
    }

    /**
     * Asks for claim {@code id}; {@code result} completes with the message, or fails. False, with
     * {@code result} untouched, when this connection was closed before the request: ask a new one.
     */
    synchronized boolean request(long id, CompletableFuture<Object> result) {
        if (closed) {
            return false;
        }
        lastAsked = System.nanoTime();
        pending.add(new Pending(id, result, lastAsked));
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
        return true;
    }

    private void read(SideChannelLink from) {
        try {
            SideChannelStreams.In in = new SideChannelStreams.In(from);
            while (true) {
                byte kind = in.readByte();
                Pending p;
                synchronized (this) {
                    p = pending.poll();
                }
                if (p == null) {
                    throw new IOException("an answer nobody asked for");
                }
                if (kind == SideChannelServer.NOT_HELD) {
                    p.result().completeExceptionally(new IOException("claim " + p.id() + " is not held there: already pulled, or dropped after splitfed.wire.side-channel.hold"));
                    continue;
                }
                if (kind != SideChannelServer.MESSAGE) {
                    throw new IOException("not a side channel: answer " + kind);
                }
                Object message;
                try {
                    message = kryo.read(in);
                } catch (KryoException e) {
                    p.result().completeExceptionally(new IOException("claim " + p.id() + ": not a message (" + e.getMessage() + ")"));
                    throw e; // the stream is out of step: this connection is done
                }
                p.result().complete(message);
            }
        } catch (IOException | RuntimeException | LinkageError e) {
            if (!closed) {
                LOG.debug("side channel to {}:{} broke: {}", host, port, e.toString());
            }
            fail(e instanceof Exception x ? x : new IOException(e));
        }
    }

    /** Breaks the connection when its oldest answer is overdue, and closes it when nothing was asked for {@code idle}. */
    void expire() {
        Pending oldest;
        synchronized (this) {
            oldest = pending.peek();
        }
        long now = System.nanoTime();
        if (oldest != null && now - oldest.since() > timeoutNanos) {
            fail(new IOException("no answer from " + host + ":" + port + " within " + Duration.ofNanos(timeoutNanos)));
        } else if (oldest == null && now - lastAsked > idleNanos) {
            close();
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
