package io.splitfed.optimizer;

/**
 * The OFDMA uplink shared by the devices, and the server's downlink.
 *
 * @param subchannels subchannels to hand out, each of {@code subchannelHz}
 * @param noiseDensity N0, W/Hz
 * @param totalPower the devices' summed transmit power budget, W
 * @param downlinkBitsPerSecond the server's broadcast rate to each device
 */
public record Channel(int subchannels, double subchannelHz, double noiseDensity, double totalPower, double downlinkBitsPerSecond) {

    /** Bits/s of {@code n} subchannels at total power {@code p} over gain {@code h}, power split evenly: n B log2(1 + p h / (n N0 B)). */
    public double rate(int n, double p, double h) {
        if (n == 0 || p <= 0) {
            return 0;
        }
        double b = subchannelHz;
        return n * b * Math.log1p(p * h / (n * noiseDensity * b)) / Math.log(2);
    }

    /** The power {@code n} subchannels need over gain {@code h} to carry {@code bitsPerSecond}. */
    public double powerFor(int n, double bitsPerSecond, double h) {
        double b = subchannelHz;
        return (Math.pow(2, bitsPerSecond / (n * b)) - 1) * n * noiseDensity * b / h;
    }
}
