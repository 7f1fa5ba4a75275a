package io.splitfed.optimizer;

/**
 * One edge device as the optimiser sees it.
 *
 * @param flopsPerSecond measured compute speed
 * @param maxPower transmit power limit, W
 * @param gain uplink channel gain h (path loss and fading)
 * @param samples samples it trains per round
 * @param joulesPerFlop compute energy (kappa f^2 per cycle over FLOPs per cycle)
 */
public record Device(double flopsPerSecond, double maxPower, double gain, int samples, double joulesPerFlop) {}
