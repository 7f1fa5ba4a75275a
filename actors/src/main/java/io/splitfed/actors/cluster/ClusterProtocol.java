package io.splitfed.actors.cluster;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.wire.WireMessage;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;

/** How nodes join a job: device and server hosts register with the job host (a cluster singleton). */
public sealed interface ClusterProtocol extends WireMessage {

    /** A device node offers device {@code device}; the job host answers {@link Registration}. */
    record RegisterDevice(int device, ActorRef<DeviceActor.Command> ref, JobFingerprint fingerprint, String node,
            ActorRef<Registration> replyTo) implements ClusterProtocol {}

    /** A server node announces itself, so that a job set up differently is refused before it trains. */
    record RegisterServer(JobFingerprint fingerprint, String node, ActorRef<Registration> replyTo) implements ClusterProtocol {}

    /** The job host's answer to a registration. */
    sealed interface Registration extends WireMessage {}

    record Accepted(String jobHost) implements Registration {}

    /** The node's job settings disagree with the job host's: {@code reason} names the setting. */
    record Refused(String reason) implements Registration {}

    /** The job finished: the job host tells every node it accepted, before it leaves. */
    record Finished() implements Registration {}

    /** The coordinator's result, on the job host (never crosses nodes). */
    record JobDone(JobResult result) implements ClusterProtocol, NoSerializationVerificationNeeded {}
}
