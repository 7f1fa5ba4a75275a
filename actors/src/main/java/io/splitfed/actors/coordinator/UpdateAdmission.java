package io.splitfed.actors.coordinator;

import io.splitfed.actors.device.DeviceActor;
import io.splitfed.model.lora.LoraAdapter;

import org.apache.pekko.actor.typed.ActorRef;

import java.util.Map;

/**
 * Whether a device's round result may be used: it must name a device of the job, come from that
 * device's own actor, and carry an update that passes {@link UpdateCheck}. Only the last kind of
 * refusal is a strike against the device: a forger must not get an honest device quarantined.
 */
final class UpdateAdmission {

    /** Why a result is refused, and whether it counts against the device. */
    record Refusal(String reason, boolean strike) {}

    private UpdateAdmission() {}

    /** The refusal of {@code result}, or null when it is admitted. */
    static Refusal check(DeviceActor.RoundDone result, Map<Integer, ActorRef<DeviceActor.Command>> devices, LoraAdapter global) {
        ActorRef<DeviceActor.Command> actor = devices.get(result.device());
        if (actor == null) {
            return new Refusal("a round result claims to come from device " + result.device() + ", which is not in the job; refused", false);
        }
        if (!actor.equals(result.from())) {
            return new Refusal("a round result for device " + result.device() + " (round " + (result.round() + 1)
                    + ") did not come from the device's actor (" + result.from() + "); refused", false);
        }
        if (result.update() != null) {
            String problem = UpdateCheck.problem(result.update(), global);
            if (problem != null) {
                return new Refusal("device " + result.device() + ": adapter update for round " + (result.round() + 1) + " refused: " + problem, true);
            }
        }
        return null;
    }
}
