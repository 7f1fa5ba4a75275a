package io.splitfed.actors.plan;

/**
 * How fast a device computes, measured on the device: {@code seconds} for a frozen forward pass of
 * {@code samples} samples padded to {@code tokensPerSample} tokens through {@code blocks} blocks.
 * Taken by a short profile when the device joins, then from its rounds' timings.
 *
 * @param nextRoundTokens padded tokens in the micro-batches the device runs next round, which set
 *     its cut-layer bytes and its compute
 */
public record DeviceProfile(int device, double seconds, int samples, int blocks, int tokensPerSample, long nextRoundTokens) {

    /** Seconds for one sample through one frozen block at the profile's length. */
    public double secondsPerSampleBlock() {
        return seconds / ((double) samples * blocks);
    }

    /**
     * Blends in a round's measurement, {@code newSeconds} for {@code newTokens} padded tokens through
     * {@code newBlocks} blocks: an exponential moving average of the per-sample-block time at the
     * profile's length. One measurement moves the estimate by at most a factor of two, so a round
     * disturbed by a pause elsewhere on the host does not throw it off; a device that really slowed
     * down is followed within a few rounds.
     */
    public DeviceProfile updatedWith(double newSeconds, long newTokens, int newBlocks, double weight) {
        double was = secondsPerSampleBlock();
        double now = Math.max(0.5 * was, Math.min(2 * was, newSeconds / ((double) newTokens * newBlocks) * tokensPerSample));
        double blended = (1 - weight) * secondsPerSampleBlock() + weight * now;
        return new DeviceProfile(device, blended * samples * blocks, samples, blocks, tokensPerSample, nextRoundTokens);
    }

    /** The same speed, ahead of a round of {@code tokens} padded tokens. */
    public DeviceProfile ahead(long tokens) {
        return new DeviceProfile(device, seconds, samples, blocks, tokensPerSample, tokens);
    }
}
