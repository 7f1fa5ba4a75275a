package io.splitfed.actors.fleet;

import java.util.List;

/**
 * The hardware a job is emulated on: one profile per device (device {@code d} is
 * {@code devices.get(d)}) and the server's. Built by {@link Fleets} from a named fleet, a fleet
 * file, or this host's measured speed.
 *
 * @param name the fleet's name or file, as given
 * @param source where its figures come from, one line, for reports
 */
public record Fleet(String name, String source, List<FleetDevice> devices, FleetDevice server) {

    public Fleet {
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("fleet " + name + ": no devices");
        }
        devices = List.copyOf(devices);
    }

    /**
     * Whether device {@code d} is there for round {@code round}: a draw at its availability, the
     * same for the same job seed, round and device (so a rerun meets the same absences).
     */
    public boolean present(int d, int round, long seed) {
        double a = device(d).availability();
        if (a >= 1) {
            return true;
        }
        long mixed = seed * 0x9E3779B97F4A7C15L + round * 0xC2B2AE3D27D4EB4FL + d * 0x165667B19E3779F9L;
        return new java.util.SplittableRandom(mixed).nextDouble() < a;
    }

    /** Device {@code d}'s profile. */
    public FleetDevice device(int d) {
        if (d < 0 || d >= devices.size()) {
            throw new IllegalArgumentException("fleet " + name + " has " + devices.size() + " devices; there is no device " + d);
        }
        return devices.get(d);
    }
}
