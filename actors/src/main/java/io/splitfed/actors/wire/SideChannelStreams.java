package io.splitfed.actors.wire;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.ByteBufferOutput;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Kryo reading and writing straight through a side-channel connection, a buffer at a time: the
 * serving end writes a message into a 1 MiB buffer and sends it each time it fills, while the
 * pulling end decodes what has come so far. The buffers stay in the CPU's cache and neither end
 * holds a whole frame, and each end works on a message while the other is still on it.
 */
final class SideChannelStreams {

    /** Bytes buffered at each end of a connection. */
    static final int BUFFER = 1 << 20;

    private SideChannelStreams() {}

    /** Kryo output that sends its buffer down {@code link} whenever it fills, and on {@link #flush}. */
    static final class Out extends ByteBufferOutput {

        private final SideChannelLink link;

        Out(SideChannelLink link) {
            super(BUFFER);
            this.link = link;
        }

        @Override
        public void flush() {
            if (position == 0) {
                return;
            }
            ByteBuffer pending = byteBuffer.duplicate();
            pending.position(0).limit(position);
            try {
                link.write(pending);
            } catch (IOException e) {
                throw new KryoException(e);
            }
            byteBuffer.position(0);
            total += position;
            position = 0;
        }
    }

    /** Kryo input that refills its buffer from {@code link}, one read at a time, as the message is decoded. */
    static final class In extends ByteBufferInput {

        private final SideChannelLink link;

        In(SideChannelLink link) {
            super(BUFFER);
            this.link = link;
        }

        @Override
        protected int fill(ByteBuffer buffer, int offset, int count) {
            ByteBuffer into = buffer.duplicate();
            into.limit(offset + count).position(offset);
            try {
                int n = link.read(into);
                buffer.position(offset + Math.max(n, 0));
                return n;
            } catch (IOException e) {
                throw new KryoException(e);
            }
        }
    }
}
