package io.splitfed.actors.wire;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorPayload;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * Every class that crosses the wire, registered with Kryo in one fixed order so that all nodes
 * running the same build agree on the ids, and with registration required so that an unknown
 * class fails loudly at the sender instead of being written by name.
 *
 * <p>The classes are found, not listed: the sealed protocol interfaces that each
 * {@link WireProtocol} on the class path names are walked through their permitted records and
 * those records' component types. Internal messages, marked
 * {@link NoSerializationVerificationNeeded}, are skipped: they never leave their JVM.
 */
public final class WireRegistry {

    /**
     * A set of sealed protocol roots to register, found through {@link ServiceLoader}: splitfed's
     * own ({@code io.splitfed.actors.Protocols}, the one {@code core} provider, whose roots come
     * first in its order) and any extension's (after it, sorted by name), so that every node of one
     * build gives every class the same id.
     */
    public interface WireProtocol {
        List<Class<?>> roots();

        /** Whether these are splitfed's own protocols. */
        default boolean core() {
            return false;
        }
    }

    private static final List<Class<?>> CLASSES = discover();

    private WireRegistry() {}

    /** The wire classes, in registration order. */
    public static List<Class<?>> classes() {
        return CLASSES;
    }

    static Kryo newKryo(ActorRefResolver resolver) {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
        // ids 0..9 are Kryo's primitives and String; ours start at 20 and keep their order
        int id = 20;
        kryo.register(byte[].class, id++);
        kryo.register(int[].class, id++);
        kryo.register(long[].class, id++);
        kryo.register(float[].class, id++);
        kryo.register(double[].class, id++);
        kryo.register(boolean[].class, id++);
        kryo.register(TensorPayload.class, new KryoSerializers.TensorPayloadSerializer(), id++);
        kryo.register(HostTensor.class, new KryoSerializers.HostTensorSerializer(), id++);
        kryo.register(LoraAdapter.class, new KryoSerializers.LoraAdapterSerializer(), id++);
        kryo.register(Duration.class, id++);
        kryo.register(Path.of("x").getClass(), new PathSerializer(), id++);
        KryoSerializers.ActorRefSerializer refs = new KryoSerializers.ActorRefSerializer(resolver);
        for (String impl : List.of(
                "org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter",
                "org.apache.pekko.actor.typed.scaladsl.adapter.package$ActorRefAdapter")) {
            try {
                kryo.register(Class.forName(impl), refs, id);
            } catch (ClassNotFoundException absent) {
                // the adapter's home moved between Pekko versions; one of the two exists
            }
            id++;
        }
        for (Class<?> c : KryoSerializers.jdkCollections()) {
            Serializer<?> s = java.util.Map.class.isAssignableFrom(c) ? new KryoSerializers.MapSerializer()
                    : Set.class.isAssignableFrom(c) ? new KryoSerializers.SetSerializer() : new KryoSerializers.ListSerializer();
            kryo.register(c, s, id++);
        }
        id = 100;
        for (Class<?> c : CLASSES) {
            kryo.register(c, id++);
        }
        return kryo;
    }

    private static List<Class<?>> discover() {
        List<Class<?>> roots = new ArrayList<>();
        List<Class<?>> extensions = new ArrayList<>();
        for (WireProtocol p : ServiceLoader.load(WireProtocol.class, WireRegistry.class.getClassLoader())) {
            (p.core() ? roots : extensions).addAll(p.roots());
        }
        if (roots.isEmpty()) {
            throw new IllegalStateException("splitfed's wire protocols are missing from the class path (META-INF/services/"
                    + WireProtocol.class.getName() + " names io.splitfed.actors.Protocols)");
        }
        extensions.sort(Comparator.comparing(Class::getName));
        roots.addAll(extensions);
        Set<Class<?>> found = new LinkedHashSet<>();
        for (Class<?> r : roots) {
            walk(r, found);
        }
        return List.copyOf(found);
    }

    private static void walk(Class<?> c, Set<Class<?>> found) {
        if (c.isPrimitive() || c.isArray() || c == String.class || found.contains(c) || builtIn(c)
                || NoSerializationVerificationNeeded.class.isAssignableFrom(c)) {
            return;
        }
        if (c.isSealed()) {
            Class<?>[] subs = c.getPermittedSubclasses();
            java.util.Arrays.sort(subs, Comparator.comparing(Class::getName));
            for (Class<?> s : subs) {
                walk(s, found);
            }
            return;
        }
        if (c.isEnum()) {
            found.add(c);
            return;
        }
        if (c.isRecord()) {
            found.add(c);
            for (RecordComponent rc : c.getRecordComponents()) {
                walkType(rc.getGenericType(), found);
            }
            return;
        }
        if (c.isInterface() || java.lang.reflect.Modifier.isAbstract(c.getModifiers())) {
            return; // collections, ActorRef, Number...: their concrete classes are registered above
        }
        throw new IllegalStateException("wire class " + c.getName() + " is neither a record, an enum nor a sealed interface; give it a serializer in WireRegistry");
    }

    private static void walkType(Type t, Set<Class<?>> found) {
        if (t instanceof Class<?> c) {
            walk(c.isArray() ? c.getComponentType() : c, found);
        } else if (t instanceof ParameterizedType p) {
            walkType(p.getRawType(), found);
            for (Type a : p.getActualTypeArguments()) {
                walkType(a, found);
            }
        }
    }

    private static boolean builtIn(Class<?> c) {
        return c == TensorPayload.class || c == HostTensor.class || c == LoraAdapter.class || c == Duration.class
                || c == Path.class || ActorRef.class.isAssignableFrom(c) || c == Object.class
                || c == Integer.class || c == Long.class || c == Double.class || c == Float.class || c == Boolean.class;
    }

    /** A path as its string: a node's paths name its own files. */
    static final class PathSerializer extends Serializer<Path> {
        @Override
        public void write(Kryo kryo, Output out, Path p) {
            out.writeString(p.toString());
        }

        @Override
        public Path read(Kryo kryo, Input in, Class<? extends Path> type) {
            return Path.of(in.readString());
        }
    }
}
