package io.splitfed.actors.device;

import io.splitfed.model.tokenizer.SequenceEncoder;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * A device's private shard and its cursor. Each epoch is a seeded shuffle cut into micro-batches,
 * of similar lengths (sorted within small buckets, so little compute goes to padding) unless the
 * server re-batches rows by length itself; the cursor (epoch, position) is all a checkpoint needs
 * to continue exactly.
 */
public final class DeviceData {

    /** Where the device is in its data. */
    public record Cursor(int epoch, int position) {}

    private static final int BUCKET_BATCHES = 8;

    private final List<SequenceEncoder.Encoded> examples;
    private int microBatch;
    private final long seed;
    private final boolean bucketByLength;
    private int epoch;
    private int position;
    private List<List<SequenceEncoder.Encoded>> batches;

    public DeviceData(List<SequenceEncoder.Encoded> examples, int microBatch, long seed, boolean bucketByLength) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("a device needs at least one example");
        }
        this.examples = List.copyOf(examples);
        this.microBatch = microBatch;
        this.seed = seed;
        this.bucketByLength = bucketByLength;
        this.batches = plan(0);
    }

    private List<List<SequenceEncoder.Encoded>> plan(int forEpoch) {
        List<SequenceEncoder.Encoded> order = new ArrayList<>(examples);
        Random rng = new Random(seed * 31 + forEpoch);
        java.util.Collections.shuffle(order, rng);
        List<List<SequenceEncoder.Encoded>> out = new ArrayList<>();
        int bucket = bucketByLength ? microBatch * BUCKET_BATCHES : microBatch;
        for (int start = 0; start < order.size(); start += bucket) {
            List<SequenceEncoder.Encoded> chunk = new ArrayList<>(order.subList(start, Math.min(order.size(), start + bucket)));
            if (bucketByLength) {
                chunk.sort(Comparator.comparingInt(e -> e.ids().length));
            }
            for (int i = 0; i < chunk.size(); i += microBatch) {
                out.add(List.copyOf(chunk.subList(i, Math.min(chunk.size(), i + microBatch))));
            }
        }
        java.util.Collections.shuffle(out, rng);
        return out;
    }

    /**
     * From now on, micro-batches of {@code size}: what is left of this epoch is cut again in the
     * same order, and later epochs are planned at the new size.
     */
    public void resize(int size) {
        if (size == microBatch) {
            return;
        }
        List<SequenceEncoder.Encoded> rest = new ArrayList<>();
        for (int i = position; i < batches.size(); i++) {
            rest.addAll(batches.get(i));
        }
        microBatch = size;
        List<List<SequenceEncoder.Encoded>> next = new ArrayList<>(batches.subList(0, position));
        for (int i = 0; i < rest.size(); i += size) {
            next.add(List.copyOf(rest.subList(i, Math.min(rest.size(), i + size))));
        }
        batches = next;
    }

    public int microBatch() {
        return microBatch;
    }

    /** The next {@code n} micro-batches {@link #next} will return, without moving the cursor. */
    public List<List<SequenceEncoder.Encoded>> upcoming(int n) {
        List<List<SequenceEncoder.Encoded>> out = new ArrayList<>();
        int e = epoch;
        int p = position;
        List<List<SequenceEncoder.Encoded>> b = batches;
        while (out.size() < n) {
            if (p >= b.size()) {
                e++;
                p = 0;
                b = plan(e);
            }
            out.add(b.get(p++));
        }
        return out;
    }

    /** The next micro-batch; a new epoch begins (freshly shuffled) when one runs out. */
    public List<SequenceEncoder.Encoded> next() {
        if (position >= batches.size()) {
            epoch++;
            position = 0;
            batches = plan(epoch);
        }
        return batches.get(position++);
    }

    public int batchesPerEpoch() {
        return batches.size();
    }

    public int size() {
        return examples.size();
    }

    public int epoch() {
        return epoch;
    }

    public Cursor cursor() {
        return new Cursor(epoch, position);
    }

    public void restore(Cursor c) {
        epoch = c.epoch();
        position = c.position();
        batches = plan(epoch);
    }

    public List<SequenceEncoder.Encoded> examples() {
        return examples;
    }

    /** Label counts, for reports. */
    public int[] labelHistogram(int classes) {
        int[] h = new int[Math.max(classes, 1)];
        for (SequenceEncoder.Encoded e : examples) {
            if (e.label() >= 0 && e.label() < h.length) {
                h[e.label()]++;
            }
        }
        return h;
    }
}
