package io.splitfed.optimizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded random scenarios in the papers' setting: devices spread 50 to 500 m from the base
 * station (path loss 128.1 + 37.6 log10(d km) dB, Rayleigh fading), 180 kHz subchannels, two per
 * device, N0 = -174 dBm/Hz, 0.2 W per device and half of that on average as the total budget,
 * devices of 0.5 to 4 GFLOP/s, GPT-2 small (12 x 768) cut at one of 1, 2, 3, 4, 6 or 8 blocks.
 */
public final class Scenarios {

    private Scenarios() {}

    public static final ModelCost GPT2_SMALL = new ModelCost(12, 768, 3072, 2, 128);

    public static Scenario random(int devices, long seed, boolean deviceTrains) {
        Random rnd = new Random(seed);
        List<Device> ds = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            double km = (50 + 450 * rnd.nextDouble()) / 1000;
            double pathLossDb = 128.1 + 37.6 * Math.log10(km);
            double fading = -Math.log(1 - rnd.nextDouble());
            double gain = Math.pow(10, -pathLossDb / 10) * fading;
            double flops = (0.5 + 3.5 * rnd.nextDouble()) * 1e9;
            double joulesPerFlop = (1 + 2 * rnd.nextDouble()) * 1e-11;
            ds.add(new Device(flops, 0.2, gain, 64, joulesPerFlop));
        }
        Channel channel = new Channel(2 * devices, 180e3, Math.pow(10, -17.4) / 1000, 0.1 * devices, 100e6);
        return new Scenario(ds, channel, GPT2_SMALL, deviceTrains, 100e12, new int[] {1, 2, 3, 4, 6, 8}, new int[] {2, 4, 8, 16},
                new int[] {32, 16, 8, 4}, ConvergenceModel.defaults(), 0);
    }
}
