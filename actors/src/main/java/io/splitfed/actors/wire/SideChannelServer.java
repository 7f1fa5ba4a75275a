package io.splitfed.actors.wire;

import com.esotericsoftware.kryo.io.KryoBufferOverflowException;

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
 * ahead as it likes) and gets, in order, each message's length (4 bytes; -1 when it is not held)
 * and its Kryo bytes. One thread per connection, a frame buffer reused across its messages.
 */
final class SideChannelServer {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SideChannelServer.class);
    /** Room in a frame for what a message's bulk bytes leave out: its small fields and header. */
    private static final int HEADROOM = 256 * 1024;

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
            ByteBuffer request = link.allocate(8);
            ByteBuffer frame = link.allocate(1 << 20);
            while (!closed) {
                request.clear();
                link.readFully(request);
                request.flip();
                long id = request.getLong();
                Object message = take.apply(id);
                if (message != null) {
                    long need = ((WireMessage) message).bulkBytes() + HEADROOM;
                    if (frame.capacity() < need) {
                        frame = link.allocate((int) Math.min(Integer.MAX_VALUE - 8, need));
                    }
                    try {
                        frame = write(link, frame, message);
                    } catch (RuntimeException e) {
                        LOG.error("side channel: cannot serialize {} (claim {}): {}", message.getClass().getName(), id, e.toString());
                        message = null;
                    }
                }
                if (message == null) {
                    frame.clear();
                    frame.putInt(-1).flip();
                }
                link.write(frame);
            }
        } catch (IOException e) {
            // the puller went away; its next pull connects again
        } finally {
            open.remove(link);
            link.close();
        }
    }

    /** {@code frame} (or a larger one) holding {@code message}'s length and Kryo bytes, ready to send. */
    private ByteBuffer write(SideChannelLink link, ByteBuffer frame, Object message) {
        while (true) {
            frame.clear();
            frame.position(4);
            try {
                kryo.get().toBinary(message, frame);
                int length = frame.position() - 4;
                frame.putInt(0, length).flip();
                return frame;
            } catch (KryoBufferOverflowException overflow) {
                if (frame.capacity() >= Integer.MAX_VALUE / 2) {
                    throw overflow;
                }
                frame = link.allocate(frame.capacity() * 2);
            }
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
