package io.splitfed.model.lora;

import io.splitfed.model.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The trainable state of one side of the model, on the Java heap: LoRA pairs keyed
 * {@code <module>.lora_A.weight} / {@code .lora_B.weight} (A is (rank, in), B is (out, rank)),
 * plus fully trained tensors such as a classification head's {@code score.weight} (PEFT's
 * {@code modules_to_save}). Keys of {@link #frozen()} are carried but never trained (FFA-LoRA's A).
 */
public final class LoraAdapter {

    private final LoraConfig config;
    private final LinkedHashMap<String, HostTensor> tensors;
    private final Set<String> frozen;

    public LoraAdapter(LoraConfig config, Map<String, HostTensor> tensors, Set<String> frozen) {
        this.config = config;
        this.tensors = new LinkedHashMap<>(tensors);
        this.frozen = Collections.unmodifiableSet(new LinkedHashSet<>(frozen));
        for (String k : frozen) {
            if (!tensors.containsKey(k)) {
                throw new IllegalArgumentException("frozen key " + k + " is not in the adapter");
            }
        }
    }

    /**
     * A fresh adapter as PEFT initialises one: A from Kaiming-uniform (bound 1/sqrt(in)), B zero, and
     * full weights from N(0, 0.02) and full biases zero. Each tensor's random stream depends on the seed and its key
     * only, so every device and server that starts from the same seed holds the same adapter.
     */
    public static LoraAdapter init(LoraConfig config, List<LoraModule> modules, Map<String, int[]> fullTensors, long seed, boolean freezeA) {
        LinkedHashMap<String, HostTensor> t = new LinkedHashMap<>();
        Set<String> frozen = new LinkedHashSet<>();
        for (LoraModule m : modules) {
            HostTensor a = HostTensor.zeros(config.rank(), m.inFeatures());
            SplittableRandom rng = new SplittableRandom(seed ^ m.keyA().hashCode() * 0x9E3779B97F4A7C15L);
            double bound = 1.0 / Math.sqrt(m.inFeatures());
            float[] ad = a.data();
            for (int i = 0; i < ad.length; i++) {
                ad[i] = (float) (rng.nextDouble(-bound, bound));
            }
            t.put(m.keyA(), a);
            t.put(m.keyB(), HostTensor.zeros(m.outFeatures(), config.rank()));
            if (freezeA) {
                frozen.add(m.keyA());
            }
        }
        for (Map.Entry<String, int[]> e : fullTensors.entrySet()) {
            HostTensor w = HostTensor.zeros(e.getValue());
            if (e.getKey().endsWith(".bias")) {
                t.put(e.getKey(), w); // biases start at zero, as torch.nn.Linear's classifier is re-initialised
                continue;
            }
            SplittableRandom rng = new SplittableRandom(seed ^ e.getKey().hashCode() * 0x9E3779B97F4A7C15L);
            float[] wd = w.data();
            for (int i = 0; i < wd.length; i++) {
                wd[i] = (float) (gaussian(rng) * 0.02);
            }
            t.put(e.getKey(), w);
        }
        return new LoraAdapter(config, t, frozen);
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    public LoraConfig config() {
        return config;
    }

    /** All tensors in a stable order. The map is live: optimizers update values in place. */
    public Map<String, HostTensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public HostTensor get(String key) {
        return tensors.get(key);
    }

    public Set<String> frozen() {
        return frozen;
    }

    public boolean isTrainable(String key) {
        return !frozen.contains(key);
    }

    /** Module paths with a LoRA pair, in order. */
    public List<String> modulePaths() {
        List<String> out = new ArrayList<>();
        for (String k : tensors.keySet()) {
            if (k.endsWith(".lora_A.weight")) {
                out.add(k.substring(0, k.length() - ".lora_A.weight".length()));
            }
        }
        return out;
    }

    /** Keys that are not part of a LoRA pair (trained in full). */
    public List<String> fullKeys() {
        List<String> out = new ArrayList<>();
        for (String k : tensors.keySet()) {
            if (!k.endsWith(".lora_A.weight") && !k.endsWith(".lora_B.weight")) {
                out.add(k);
            }
        }
        return out;
    }

    /** alpha / rank of one module; the rank is read from its A, so mixed ranks work. */
    public double scale(String modulePath) {
        HostTensor a = tensors.get(modulePath + ".lora_A.weight");
        return config.alpha() / a.shape()[0];
    }

    /** Replaces the values of an existing key (same shape). */
    public void set(String key, HostTensor value) {
        HostTensor old = tensors.get(key);
        if (old == null || !old.sameShape(value)) {
            throw new IllegalArgumentException("cannot set " + key + ": shape " + (old == null ? "missing" : java.util.Arrays.toString(old.shape())));
        }
        tensors.put(key, value);
    }

    public LoraAdapter copy() {
        LinkedHashMap<String, HostTensor> t = new LinkedHashMap<>();
        tensors.forEach((k, v) -> t.put(k, v.copy()));
        return new LoraAdapter(config, t, frozen);
    }

    /** Every value times {@code factor}, in a new adapter. */
    public LoraAdapter scaled(float factor) {
        LinkedHashMap<String, HostTensor> t = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            HostTensor c = v.copy();
            float[] d = c.data();
            for (int i = 0; i < d.length; i++) {
                d[i] *= factor;
            }
            t.put(k, c);
        });
        return new LoraAdapter(config, t, frozen);
    }

    /** The same keys with other values (for averaging, deltas and checkpoints). */
    public LoraAdapter withTensors(Map<String, HostTensor> values) {
        if (!values.keySet().equals(tensors.keySet())) {
            throw new IllegalArgumentException("adapter keys differ: expected " + tensors.keySet() + ", got " + values.keySet());
        }
        return new LoraAdapter(config, values, frozen);
    }

    /** The tensors whose keys pass {@code keep}, sharing values (a device's or server's side). */
    public LoraAdapter select(java.util.function.Predicate<String> keep) {
        LinkedHashMap<String, HostTensor> t = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (keep.test(k)) {
                t.put(k, v);
            }
        });
        Set<String> f = new LinkedHashSet<>();
        for (String k : frozen) {
            if (t.containsKey(k)) {
                f.add(k);
            }
        }
        return new LoraAdapter(config, t, f);
    }

    /** Both sides in one adapter (device blocks, then server blocks and head), sharing values. */
    public static LoraAdapter union(LoraAdapter first, LoraAdapter second) {
        LinkedHashMap<String, HostTensor> t = new LinkedHashMap<>(first.tensors);
        for (Map.Entry<String, HostTensor> e : second.tensors.entrySet()) {
            if (t.putIfAbsent(e.getKey(), e.getValue()) != null) {
                throw new IllegalArgumentException("both adapters hold " + e.getKey());
            }
        }
        Set<String> f = new LinkedHashSet<>(first.frozen);
        f.addAll(second.frozen);
        return new LoraAdapter(first.config, t, f);
    }

    public long parameterCount() {
        long n = 0;
        for (HostTensor t : tensors.values()) {
            n += t.size();
        }
        return n;
    }

    public double l2Norm() {
        double s = 0;
        for (HostTensor t : tensors.values()) {
            s += t.squaredNorm();
        }
        return Math.sqrt(s);
    }

    public boolean allFinite() {
        for (HostTensor t : tensors.values()) {
            if (!t.allFinite()) {
                return false;
            }
        }
        return true;
    }

    /** SHA-256 over keys, shapes and values: equal hashes mean bit-identical adapters. */
    public String sha256() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
                md.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                for (int d : e.getValue().shape()) {
                    md.update((byte) d);
                    md.update((byte) (d >>> 8));
                    md.update((byte) (d >>> 16));
                }
                for (float v : e.getValue().data()) {
                    if (buf.remaining() < 4) {
                        buf.flip();
                        md.update(buf);
                        buf.clear();
                    }
                    buf.putFloat(v);
                }
                buf.flip();
                md.update(buf);
                buf.clear();
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Largest absolute difference to another adapter with the same keys. */
    public double maxAbsDiff(LoraAdapter other) {
        double m = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            float[] a = e.getValue().data();
            float[] b = other.get(e.getKey()).data();
            for (int i = 0; i < a.length; i++) {
                m = Math.max(m, Math.abs(a[i] - b[i]));
            }
        }
        return m;
    }
}
