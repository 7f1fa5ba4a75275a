package io.splitfed.actors.wire;

import com.esotericsoftware.kryo.KryoException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The serving end of a side channel: each connection asks for claims by id (8 bytes each, as many
 * ahead as it likes) and gets, in order, for each a byte ({@link #MESSAGE}, or {@link #NOT_HELD}
 * when the claim was already pulled or dropped) and the message's Kryo bytes, streamed through a
 * buffer (see {@link SideChannelStreams}). One thread per connection.
 */
final class SideChannelServer {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SideChannelServer.class);
    /** What precedes each answer: a message follows, or the claim is not held here. */
    static final byte MESSAGE = 1;
    static final byte NOT_HELD = 0;

    private final ServerSocketChannel socket;
    private final SideChannelTls tls;
    private final Function<Long, Object> take;
    private final Supplier<KryoSerializer> kryo;
    private final String name;
    private final Set<SideChannelLink> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    SideChannelServer(ServerSocketChannel socket, SideChannelTls tls, Function<Long, Object> take, Supplier<KryoSerializer> kryo, String name) {
        this.socket = socket;
        this.tls = tls;
        this.take = take;
        this.kryo = kryo;
        this.name = name;
    }

    int port() {
        return socket.socket().getLocalPort();
    }

    void start() {
        thread("splitfed-side-channel-accept-" + name, this::accept).start();
    }

    private void accept() {
        while (!closed) {
            try {
                SocketChannel channel = socket.accept();
                thread("splitfed-side-channel-serve-" + name, () -> serve(channel)).start();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("side channel: accept failed: {}", e.toString());
                }
            }
        }
    }

    private void serve(SocketChannel channel) {
        SideChannelLink link;
        try {
            link = SideChannelLink.over(channel, tls, false, null, 0);
        } catch (IOException | RuntimeException e) {
            LOG.warn("side channel: refused a connection from {}: {}", remote(channel), e.toString());
            close(channel);
            return;
        }
        open.add(link);
        try {
            ByteBuffer request = ByteBuffer.allocateDirect(8);
            SideChannelStreams.Out out = new SideChannelStreams.Out(link);
            while (!closed) {
                request.clear();
                link.readFully(request);
                long id = request.flip().getLong();
                Object message = take.apply(id);
                if (message == null) {
                    out.writeByte(NOT_HELD);
                } else {
                    out.writeByte(MESSAGE);
                    kryo.get().write(message, out);
                }
                out.flush();
            }
        } catch (IOException | KryoException e) {
            if (!(e instanceof IOException || e.getCause() instanceof IOException)) {
                LOG.error("side channel: cannot write a message; closed the connection to {}: {}", remote(channel), e.toString());
            }
            // else the puller went away; its next pull connects again
        } finally {
            open.remove(link);
            link.close();
        }
    }

    void close() {
        closed = true;
        close(socket);
        open.forEach(SideChannelLink::close);
    }

    private static String remote(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    private static void close(java.nio.channels.Channel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private static Thread thread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }
}
