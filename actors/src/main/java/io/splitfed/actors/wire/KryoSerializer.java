package io.splitfed.actors.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.ByteBufferOutput;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;

import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.ByteBufferSerializer;
import org.apache.pekko.serialization.SerializerWithStringManifest;

import java.nio.ByteBuffer;

/**
 * splitfed's Pekko serializer: Kryo 5 with every wire class registered in a fixed order (so nodes
 * agree on ids), a pool of Kryo instances (Kryo is not thread safe), typed ActorRefs through
 * ActorRefResolver, and tensors written as raw buffers. Writes straight into Artery's buffers.
 */
public final class KryoSerializer extends SerializerWithStringManifest implements ByteBufferSerializer {

    public static final int IDENTIFIER = 41_007_001;

    private final Pool<Kryo> pool;

    public KryoSerializer(ExtendedActorSystem system) {
        ActorRefResolver resolver = ActorRefResolver.get(Adapter.toTyped(system));
        this.pool = new Pool<>(true, false, 32) {
            @Override
            protected Kryo create() {
                return WireRegistry.newKryo(resolver);
            }
        };
    }

    @Override
    public int identifier() {
        return IDENTIFIER;
    }

    @Override
    public String manifest(Object o) {
        return "";
    }

    @Override
    public byte[] toBinary(Object o) {
        Output out = new Output(64 * 1024, -1);
        write(o, out);
        return out.toBytes();
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) {
        return read(new Input(bytes));
    }

    @Override
    public void toBinary(Object o, ByteBuffer buf) {
        ByteBufferOutput out = new ByteBufferOutput(buf);
        write(o, out);
        out.flush();
    }

    @Override
    public Object fromBinary(ByteBuffer buf, String manifest) {
        return read(new ByteBufferInput(buf));
    }

    /** Writes {@code o} to {@code out}, without flushing. */
    void write(Object o, Output out) {
        Kryo kryo = pool.obtain();
        try {
            kryo.writeClassAndObject(out, o);
        } finally {
            pool.free(kryo);
        }
    }

    /** The next message from {@code in}. */
    Object read(Input in) {
        Kryo kryo = pool.obtain();
        try {
            return kryo.readClassAndObject(in);
        } finally {
            pool.free(kryo);
        }
    }
}
