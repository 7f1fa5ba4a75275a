package io.splitfed.actors.plan;

/**
 * How fast a device computes, measured on the device: {@code seconds} for a frozen forward pass of
 * {@code samples} samples padded to {@code tokensPerSample} tokens through {@code blocks} blocks.
 * Taken by a short profile when the device joins, then from its rounds' timings.
 *
 * @param dataTokensPerSample padded tokens per sample over the device's own micro-batches, which
 *     sets its cut-layer bytes
 */
public record DeviceProfile(int device, double seconds, int samples, int blocks, int tokensPerSample, double dataTokensPerSample) {

    /** Seconds for one sample through one frozen block at the profile's length. */
    public double secondsPerSampleBlock() {
        return seconds / ((double) samples * blocks);
    }

    /**
     * Blends in a round's measurement, taken on the device's own data (padded to
     * {@code dataTokensPerSample}): an exponential moving average of the per-sample-block time.
     */
    public DeviceProfile updatedWith(double newSeconds, int newSamples, int newBlocks, double weight) {
        double now = newSeconds / ((double) newSamples * newBlocks) * tokensPerSample / dataTokensPerSample;
        double blended = (1 - weight) * secondsPerSampleBlock() + weight * now;
        return new DeviceProfile(device, blended * samples * blocks, samples, blocks, tokensPerSample, dataTokensPerSample);
    }
}
