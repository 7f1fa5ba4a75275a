package io.splitfed.actors.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

import javax.net.ssl.SSLSocket;

/**
 * One side-channel connection, plain or TLS. Plain connections move bytes straight between the
 * kernel and direct buffers; TLS connections through the socket's streams.
 */
abstract class SideChannelLink implements AutoCloseable {

    abstract void write(ByteBuffer bytes) throws IOException;

    /** Fills {@code bytes} to its limit, or throws at the end of the stream. */
    final void readFully(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            if (read(bytes) < 0) {
                throw new EOFException("the side-channel connection closed");
            }
        }
    }

    /** One read into {@code bytes}: how many bytes came (at least one), or -1 at the end of the stream. */
    abstract int read(ByteBuffer bytes) throws IOException;

    @Override
    public abstract void close();

    /** A link over {@code channel}, connected or accepted; TLS when {@code tls} is not null. */
    static SideChannelLink over(SocketChannel channel, SideChannelTls tls, boolean client, String host, int port) throws IOException {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        if (tls == null) {
            return new Plain(channel);
        }
        return new Tls(tls.wrap(channel.socket(), client, host, port));
    }

    static SideChannelLink connect(String host, int port, SideChannelTls tls, int timeoutMillis) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.socket().connect(new InetSocketAddress(host, port), timeoutMillis);
            return over(channel, tls, true, host, port);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static final class Plain extends SideChannelLink {

        private final SocketChannel channel;

        Plain(SocketChannel channel) {
            this.channel = channel;
        }

        @Override
        void write(ByteBuffer bytes) throws IOException {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        }

        @Override
        int read(ByteBuffer bytes) throws IOException {
            return channel.read(bytes);
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /** TLS through the socket's streams; direct buffers pass through a small array. */
    private static final class Tls extends SideChannelLink {

        private final SSLSocket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] staging = new byte[64 * 1024];

        Tls(SSLSocket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        @Override
        void write(ByteBuffer bytes) throws IOException {
            if (bytes.hasArray()) {
                out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
                bytes.position(bytes.limit());
            } else {
                while (bytes.hasRemaining()) {
                    int n = Math.min(staging.length, bytes.remaining());
                    bytes.get(staging, 0, n);
                    out.write(staging, 0, n);
                }
            }
            out.flush();
        }

        @Override
        int read(ByteBuffer bytes) throws IOException {
            if (bytes.hasArray()) {
                int n = in.read(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
                if (n > 0) {
                    bytes.position(bytes.position() + n);
                }
                return n;
            }
            int n = in.read(staging, 0, Math.min(staging.length, bytes.remaining()));
            if (n > 0) {
                bytes.put(staging, 0, n);
            }
            return n;
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
