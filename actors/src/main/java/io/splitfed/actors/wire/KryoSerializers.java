package io.splitfed.actors.wire;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraConfig;
import io.splitfed.model.lora.LoraTarget;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorPayload;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Kryo serializers for splitfed's payload types: raw little-endian buffers, no per-element boxing. */
final class KryoSerializers {

    private KryoSerializers() {}

    static void writeFloats(Output out, float[] values) {
        out.writeVarInt(values.length, true);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        out.writeBytes(b.array());
    }

    /**
     * A length read from the wire, checked against the bytes that can still follow (in a frame, what
     * is left of it; on a stream, no message's worth): a damaged or forged frame must fail with a
     * reason, not allocate gigabytes.
     */
    static int length(Input in, int bytesEach) {
        int n = in.readVarInt(true);
        long need = (long) n * bytesEach;
        boolean streamed = in.getInputStream() != null || in instanceof SideChannelStreams.In; // more comes than is buffered
        long left = streamed ? Reassembler.MAX_MESSAGE_BYTES : in.limit() - in.position();
        if (n < 0 || need > left) {
            throw new com.esotericsoftware.kryo.KryoException("a length of " + n + " values (" + need + " bytes) with only " + left
                    + " bytes left: the frame is damaged or truncated");
        }
        return n;
    }

    static float[] readFloats(Input in) {
        int n = length(in, 4);
        byte[] raw = in.readBytes(n * 4);
        float[] out = new float[n];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    static void writeInts(Output out, int[] values) {
        out.writeVarInt(values.length, true);
        out.writeInts(values, 0, values.length, true);
    }

    static int[] readInts(Input in) {
        int n = length(in, 1);
        return in.readInts(n, true);
    }

    /** Shape, encoding, the bytes as one block, and the quantization scales. */
    static final class TensorPayloadSerializer extends Serializer<TensorPayload> {
        @Override
        public void write(Kryo kryo, Output out, TensorPayload p) {
            out.writeByte(p.encoding().ordinal());
            writeInts(out, p.shape());
            out.writeVarInt(p.bytes().length, true);
            out.writeBytes(p.bytes());
            out.writeBoolean(p.scales() != null);
            if (p.scales() != null) {
                writeFloats(out, p.scales());
            }
        }

        @Override
        public TensorPayload read(Kryo kryo, Input in, Class<? extends TensorPayload> type) {
            TensorPayload.Encoding enc = TensorPayload.Encoding.values()[in.readByte()];
            int[] shape = readInts(in);
            byte[] bytes = in.readBytes(length(in, 1));
            float[] scales = in.readBoolean() ? readFloats(in) : null;
            return new TensorPayload(enc, shape, bytes, scales);
        }
    }

    static final class HostTensorSerializer extends Serializer<HostTensor> {
        @Override
        public void write(Kryo kryo, Output out, HostTensor t) {
            writeInts(out, t.shape());
            writeFloats(out, t.data());
        }

        @Override
        public HostTensor read(Kryo kryo, Input in, Class<? extends HostTensor> type) {
            return new HostTensor(readInts(in), readFloats(in));
        }
    }

    static final class LoraAdapterSerializer extends Serializer<LoraAdapter> {
        @Override
        public void write(Kryo kryo, Output out, LoraAdapter a) {
            LoraConfig c = a.config();
            out.writeVarInt(c.rank(), true);
            out.writeDouble(c.alpha());
            out.writeDouble(c.dropout());
            out.writeVarInt(c.targets().size(), true);
            for (LoraTarget t : c.targets()) {
                out.writeByte(t.ordinal());
            }
            out.writeVarInt(a.tensors().size(), true);
            for (Map.Entry<String, HostTensor> e : a.tensors().entrySet()) {
                out.writeString(e.getKey());
                writeInts(out, e.getValue().shape());
                writeFloats(out, e.getValue().data());
            }
            out.writeVarInt(a.frozen().size(), true);
            for (String k : a.frozen()) {
                out.writeString(k);
            }
        }

        @Override
        public LoraAdapter read(Kryo kryo, Input in, Class<? extends LoraAdapter> type) {
            int rank = in.readVarInt(true);
            double alpha = in.readDouble();
            double dropout = in.readDouble();
            int nt = in.readVarInt(true);
            EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
            for (int i = 0; i < nt; i++) {
                targets.add(LoraTarget.values()[in.readByte()]);
            }
            int n = length(in, 1);
            Map<String, HostTensor> tensors = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                String key = in.readString();
                tensors.put(key, new HostTensor(readInts(in), readFloats(in)));
            }
            int nf = in.readVarInt(true);
            Set<String> frozen = new LinkedHashSet<>();
            for (int i = 0; i < nf; i++) {
                frozen.add(in.readString());
            }
            return new LoraAdapter(new LoraConfig(rank, alpha, dropout, targets), tensors, frozen);
        }
    }

    /** A typed ActorRef as its resolvable path, through the system's ActorRefResolver. */
    static final class ActorRefSerializer extends Serializer<ActorRef<?>> {
        private final ActorRefResolver resolver;

        ActorRefSerializer(ActorRefResolver resolver) {
            this.resolver = resolver;
        }

        @Override
        public void write(Kryo kryo, Output out, ActorRef<?> ref) {
            out.writeString(resolver.toSerializationFormat(ref));
        }

        @Override
        public ActorRef<?> read(Kryo kryo, Input in, Class<? extends ActorRef<?>> type) {
            return resolver.resolveActorRef(in.readString());
        }
    }

    /** Any List (the JDK's immutable ones included) written as its elements, read as an ArrayList. */
    static final class ListSerializer extends Serializer<List<?>> {
        @Override
        public void write(Kryo kryo, Output out, List<?> list) {
            out.writeVarInt(list.size(), true);
            for (Object o : list) {
                kryo.writeClassAndObject(out, o);
            }
        }

        @Override
        public List<?> read(Kryo kryo, Input in, Class<? extends List<?>> type) {
            int n = length(in, 1);
            List<Object> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(kryo.readClassAndObject(in));
            }
            return out;
        }
    }

    /** Any Set, read as a LinkedHashSet (order kept). */
    static final class SetSerializer extends Serializer<Set<?>> {
        @Override
        public void write(Kryo kryo, Output out, Set<?> set) {
            out.writeVarInt(set.size(), true);
            for (Object o : set) {
                kryo.writeClassAndObject(out, o);
            }
        }

        @Override
        public Set<?> read(Kryo kryo, Input in, Class<? extends Set<?>> type) {
            int n = length(in, 1);
            Set<Object> out = new LinkedHashSet<>();
            for (int i = 0; i < n; i++) {
                out.add(kryo.readClassAndObject(in));
            }
            return out;
        }
    }

    /** Any Map, read as a LinkedHashMap (order kept). */
    static final class MapSerializer extends Serializer<Map<?, ?>> {
        @Override
        public void write(Kryo kryo, Output out, Map<?, ?> map) {
            out.writeVarInt(map.size(), true);
            for (Map.Entry<?, ?> e : map.entrySet()) {
                kryo.writeClassAndObject(out, e.getKey());
                kryo.writeClassAndObject(out, e.getValue());
            }
        }

        @Override
        public Map<?, ?> read(Kryo kryo, Input in, Class<? extends Map<?, ?>> type) {
            int n = length(in, 1);
            Map<Object, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                out.put(kryo.readClassAndObject(in), kryo.readClassAndObject(in));
            }
            return out;
        }
    }

    static List<Class<?>> jdkCollections() {
        List<Class<?>> out = new ArrayList<>(List.of(ArrayList.class, HashMap.class, LinkedHashMap.class, HashSet.class, LinkedHashSet.class));
        out.add(List.of().getClass());
        out.add(List.of(1).getClass());
        out.add(List.of(1, 2, 3).getClass());
        out.add(Set.of().getClass());
        out.add(Set.of(1).getClass());
        out.add(Set.of(1, 2, 3).getClass());
        out.add(Map.of().getClass());
        out.add(Map.of(1, 1).getClass());
        out.add(Map.of(1, 1, 2, 2).getClass());
        out.add(java.util.Collections.emptyList().getClass());
        out.add(java.util.Collections.unmodifiableList(new ArrayList<>()).getClass());
        out.add(java.util.Collections.unmodifiableMap(new HashMap<>()).getClass());
        out.add(java.util.Collections.unmodifiableSet(new HashSet<>()).getClass());
        out.add(new ArrayList<>(List.of(1)).subList(0, 1).getClass());
        out.add(EnumSet.noneOf(LoraTarget.class).getClass());
        out.add(java.util.TreeMap.class);
        out.add(java.util.TreeSet.class);
        return out;
    }

    static boolean isCollection(Class<?> c) {
        return Collection.class.isAssignableFrom(c) || Map.class.isAssignableFrom(c);
    }
}
