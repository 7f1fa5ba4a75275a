package io.splitfed.actors.aggregator;

import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.tensor.HostTensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Byzantine-robust aggregation: each value is the median (or, with {@code trim} above zero, the
 * mean after dropping the {@code trim} share of the lowest and of the highest) of the updates'
 * values at that position. Sample weights are ignored: a robust statistic that a device could tilt
 * by claiming more samples would not be robust. LoRA's A and B are combined each on its own, as
 * FedAvg combines them.
 */
public final class CoordinateMedian implements AggregationStrategy {

    private final double trim;

    /** @param trim share cut from each end, in [0, 0.5); 0 is the median */
    public CoordinateMedian(double trim) {
        if (trim < 0 || trim >= 0.5) {
            throw new IllegalArgumentException("trimmed mean share " + trim + ": expected at least 0 and below 0.5");
        }
        this.trim = trim;
    }

    @Override
    public String name() {
        return trim == 0 ? "median" : "trimmed-mean:" + trim;
    }

    @Override
    public LoraAdapter aggregate(List<WeightedUpdate> updates) {
        LoraAdapter first = updates.get(0).adapter();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        int n = updates.size();
        float[] column = new float[n];
        for (Map.Entry<String, HostTensor> e : first.tensors().entrySet()) {
            String key = e.getKey();
            float[][] values = new float[n][];
            for (int i = 0; i < n; i++) {
                values[i] = updates.get(i).adapter().tensors().get(key).data();
            }
            HostTensor t = HostTensor.zeros(e.getValue().shape());
            float[] d = t.data();
            int cut = trim == 0 ? 0 : (int) Math.floor(trim * n);
            for (int j = 0; j < d.length; j++) {
                for (int i = 0; i < n; i++) {
                    column[i] = values[i][j];
                }
                Arrays.sort(column, 0, n);
                if (trim == 0) {
                    d[j] = n % 2 == 1 ? column[n / 2] : 0.5f * (column[n / 2 - 1] + column[n / 2]);
                } else {
                    double sum = 0;
                    for (int i = cut; i < n - cut; i++) {
                        sum += column[i];
                    }
                    d[j] = (float) (sum / (n - 2 * cut));
                }
            }
            out.put(key, t);
        }
        return new LoraAdapter(first.config(), out, first.frozen());
    }
}
