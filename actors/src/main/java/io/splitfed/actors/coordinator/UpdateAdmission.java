package io.splitfed.actors.coordinator;

import io.splitfed.actors.device.DeviceActor;

import org.apache.pekko.actor.typed.ActorRef;

import java.util.Map;

/**
 * Whether a device's round result is the device's own: it must name a device of the job and come
 * from that device's actor. Such a refusal is no strike against the device (a forger must not get
 * an honest device quarantined); what the update holds is the {@link RoundPolicy}'s to check.
 */
final class UpdateAdmission {

    private UpdateAdmission() {}

    /** Why {@code result} is refused, or null when it is the device's own. */
    static String check(DeviceActor.RoundDone result, Map<Integer, ActorRef<DeviceActor.Command>> devices) {
        ActorRef<DeviceActor.Command> actor = devices.get(result.device());
        if (actor == null) {
            return "a round result claims to come from device " + result.device() + ", which is not in the job; refused";
        }
        if (!actor.equals(result.from())) {
            return "a round result for device " + result.device() + " (round " + (result.round() + 1)
                    + ") did not come from the device's actor (" + result.from() + "); refused";
        }
        return null;
    }
}
