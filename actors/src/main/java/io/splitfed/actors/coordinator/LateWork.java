package io.splitfed.actors.coordinator;

import io.splitfed.actors.aggregator.WeightedUpdate;
import io.splitfed.model.lora.LoraAdapter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * Asynchronous rounds (FedBuff-style): devices still at work on a round that closed without them,
 * and the updates they send late, which join the next aggregation with a staleness weight
 * {@code samples / (1 + staleness)^a}.
 */
final class LateWork {

    private record Late(int device, int round, LoraAdapter update, int samples) {}

    /** Device to the round it is still working on. */
    private final Map<Integer, Integer> busy = new TreeMap<>();
    private final List<Late> updates = new ArrayList<>();
    private int applied;

    /** {@code device} goes on with {@code round} after the round closed. */
    void stillWorking(int device, int round) {
        busy.put(device, round);
    }

    boolean busy(int device) {
        return busy.containsKey(device);
    }

    boolean anyBusy() {
        return !busy.isEmpty();
    }

    Set<Integer> busyDevices() {
        return busy.keySet();
    }

    /** The device left or came back: its late work is gone. */
    void forget(int device) {
        busy.remove(device);
    }

    /**
     * A result from a device still at work on an earlier round: true when it is taken as late work
     * (its update, if any, waits for the next aggregation).
     */
    boolean arrive(int device, int round, int currentRound, LoraAdapter update, int samples) {
        if (!busy.containsKey(device) || round > currentRound) {
            return false;
        }
        busy.remove(device);
        applied++;
        if (update != null) {
            updates.add(new Late(device, round, update, samples));
        }
        return true;
    }

    /** Each busy device with the round it works on. */
    void forEachBusy(BiConsumer<Integer, Integer> action) {
        busy.forEach(action);
    }

    /** Late results applied since the round opened (for its summary). */
    int applied() {
        return applied;
    }

    /** A round opens: its count of late results starts at 0. */
    void roundOpened() {
        applied = 0;
    }

    /** The late updates, weighted for their staleness at {@code round}; the list is emptied. */
    List<WeightedUpdate> drain(int round, double exponent) {
        List<WeightedUpdate> out = new ArrayList<>();
        for (Late late : updates) {
            int staleness = Math.max(1, round - late.round());
            out.add(new WeightedUpdate(late.device(), late.update(), late.samples() / Math.pow(1 + staleness, exponent)));
        }
        updates.clear();
        return out;
    }
}
