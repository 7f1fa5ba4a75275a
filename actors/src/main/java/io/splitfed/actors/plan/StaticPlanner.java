package io.splitfed.actors.plan;

import io.splitfed.actors.job.JobSpec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every round as the job configures it: its split points, micro-batch, bits and link rate. */
public final class StaticPlanner implements RoundPlanner {

    private final JobSpec spec;
    private final int layers;

    public StaticPlanner(JobSpec spec, int layers) {
        this.spec = spec;
        this.layers = layers;
    }

    public DevicePlan planFor(int device) {
        int k = spec.mode().isSplit() ? spec.federation().splitPoint(device) : layers;
        return new DevicePlan(k, spec.training().microBatch(), spec.pipeline().uplink().bits(), 0);
    }

    @Override
    public RoundPlan plan(int round, List<Integer> sampled, Map<Integer, DeviceProfile> profiles) {
        Map<Integer, DevicePlan> out = new LinkedHashMap<>();
        for (int d : sampled) {
            out.put(d, planFor(d));
        }
        return new RoundPlan(out, Double.NaN, Double.NaN, "static");
    }
}
