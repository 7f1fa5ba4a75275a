package io.splitfed.actors.coordinator;

import io.splitfed.actors.aggregator.WeightedUpdate;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the coordinator checks of a device's adapter update before it may join an aggregate: the
 * global adapter's keys and shapes, finite values, and a distance from the global adapter that is
 * not far off the other updates' of the round.
 */
final class UpdateCheck {

    private UpdateCheck() {}

    /** Why {@code update} must be refused, or null. */
    static String problem(LoraAdapter update, LoraAdapter global) {
        if (global != null) {
            if (!update.tensors().keySet().equals(global.tensors().keySet())) {
                List<String> missing = new ArrayList<>(global.tensors().keySet());
                missing.removeAll(update.tensors().keySet());
                List<String> extra = new ArrayList<>(update.tensors().keySet());
                extra.removeAll(global.tensors().keySet());
                return "its tensors differ from the global adapter's (missing " + head(missing) + ", unexpected " + head(extra) + ")";
            }
            for (Map.Entry<String, HostTensor> e : global.tensors().entrySet()) {
                int[] got = update.tensors().get(e.getKey()).shape();
                if (!Arrays.equals(got, e.getValue().shape())) {
                    return e.getKey() + " has shape " + Arrays.toString(got) + ", expected " + Arrays.toString(e.getValue().shape());
                }
            }
        }
        for (Map.Entry<String, HostTensor> e : update.tensors().entrySet()) {
            float[] d = e.getValue().data();
            for (int i = 0; i < d.length; i++) {
                if (!Float.isFinite(d[i])) {
                    return e.getKey() + " holds " + d[i] + " at " + i;
                }
            }
        }
        return null;
    }

    private static String head(List<String> keys) {
        return keys.isEmpty() ? "none" : keys.size() <= 3 ? keys.toString() : keys.subList(0, 3) + " and " + (keys.size() - 3) + " more";
    }

    /**
     * Updates further from {@code global} than {@code factor} times the median distance of the
     * round's updates, with the reason for each, by source; none with fewer than three updates.
     */
    static Map<Integer, String> outliers(List<WeightedUpdate> updates, LoraAdapter global, double factor) {
        Map<Integer, String> out = new LinkedHashMap<>();
        if (updates.size() < 3 || global == null) {
            return out;
        }
        double[] dist = new double[updates.size()];
        for (int i = 0; i < dist.length; i++) {
            dist[i] = distance(updates.get(i).adapter(), global);
        }
        double[] sorted = dist.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2] : 0.5 * (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]);
        for (int i = 0; i < dist.length; i++) {
            if (dist[i] > factor * Math.max(median, 1e-12)) {
                out.put(updates.get(i).source(), String.format(java.util.Locale.ROOT,
                        "its distance from the global adapter, %.3g, is %.1f times the round's median %.3g (limit %.1f times)",
                        dist[i], dist[i] / median, median, factor));
            }
        }
        return out;
    }

    static double distance(LoraAdapter a, LoraAdapter global) {
        double sum = 0;
        for (Map.Entry<String, HostTensor> e : global.tensors().entrySet()) {
            float[] x = a.tensors().get(e.getKey()).data();
            float[] g = e.getValue().data();
            for (int i = 0; i < g.length; i++) {
                double d = (double) x[i] - g[i];
                sum += d * d;
            }
        }
        return Math.sqrt(sum);
    }
}
