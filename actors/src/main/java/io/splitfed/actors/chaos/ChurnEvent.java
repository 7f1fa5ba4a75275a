package io.splitfed.actors.chaos;

/**
 * One fault, {@code atMillis} after round {@code round} starts.
 *
 * @param action kill-device, restart-device, slow-device (value: the factor; 1 restores),
 *     kill-shard (value: milliseconds down), link-latency (value: milliseconds added), cut-link
 *     (value: milliseconds cut), malformed (detail: the kind, see {@code Malformed})
 * @param target the device, or the shard for kill-shard
 */
public record ChurnEvent(int round, long atMillis, String action, int target, double value, String detail) {

    @Override
    public String toString() {
        String what = switch (action) {
            case "kill-device" -> "kill device " + target;
            case "restart-device" -> "restart device " + target;
            case "slow-device" -> value == 1.0 ? "restore device " + target + " to full speed" : "slow device " + target + " down " + value + "x";
            case "kill-shard" -> "kill shard " + target + " for " + (long) value + " ms";
            case "link-latency" -> "add " + (long) value + " ms to device " + target + "'s uplink";
            case "cut-link" -> "cut device " + target + "'s uplink for " + (long) value + " ms";
            case "malformed" -> "send " + detail + " as device " + target;
            default -> action + " " + target;
        };
        return "round " + (round + 1) + " +" + atMillis + " ms: " + what;
    }
}
