package io.splitfed.actors.plan;

import java.util.Map;

/**
 * A planner's decision for one round: each sampled device's plan, and what the planner predicts
 * the round's training will take (NaN when it does not predict).
 *
 * @param predictedSeconds from the round's start until the last device is done
 * @param predictedJoules the devices' energy, compute and transmit
 */
public record RoundPlan(Map<Integer, DevicePlan> devices, double predictedSeconds, double predictedJoules, String planner) {

    public DevicePlan of(int device) {
        DevicePlan p = devices.get(device);
        if (p == null) {
            throw new IllegalStateException(planner + " planned no round for device " + device);
        }
        return p;
    }
}
