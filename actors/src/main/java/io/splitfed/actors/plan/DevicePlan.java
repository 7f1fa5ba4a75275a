package io.splitfed.actors.plan;

/**
 * What one device runs with in one round; applied by the device when the round starts.
 *
 * @param splitPoint blocks the device runs (SplitFrozen may move it each round; SFL and FedLoRA keep the job's)
 * @param microBatch samples per micro-batch
 * @param uplinkBits bits per value of the cut activations on the wire: 32, 16, 8 or 4
 * @param uplinkMbps the rate of the device's simulated uplink (its allocated rate); 0 keeps the job's
 * @param uplinkWatts the transmit power the rate was allocated at, which prices the device's energy
 *     on a fleet; 0 keeps the fleet profile's
 */
public record DevicePlan(int splitPoint, int microBatch, int uplinkBits, double uplinkMbps, double uplinkWatts) {

    /** A plan at the device's own transmit power. */
    public DevicePlan(int splitPoint, int microBatch, int uplinkBits, double uplinkMbps) {
        this(splitPoint, microBatch, uplinkBits, uplinkMbps, 0);
    }

    public DevicePlan {
        if (microBatch < 1) {
            throw new IllegalArgumentException("micro-batch must be at least 1, got " + microBatch);
        }
        if (uplinkBits != 32 && uplinkBits != 16 && uplinkBits != 8 && uplinkBits != 4) {
            throw new IllegalArgumentException("uplink bits must be 32, 16, 8 or 4, got " + uplinkBits);
        }
        if (!(uplinkMbps >= 0)) {
            throw new IllegalArgumentException("uplink rate must be 0 (keep the job's) or positive, got " + uplinkMbps);
        }
        if (!(uplinkWatts >= 0)) {
            throw new IllegalArgumentException("uplink power must be 0 (keep the device's) or positive, got " + uplinkWatts);
        }
    }
}
