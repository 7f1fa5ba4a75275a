package io.splitfed.actors.cluster;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.device.DeviceActor;
import io.splitfed.actors.wire.WireMessage;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;

/** How nodes join a job: device and server hosts register with the job host (a cluster singleton). */
public sealed interface ClusterProtocol extends WireMessage {

    /**
     * A device node offers device {@code device}; the job host answers {@link Registration}.
     * {@code again}: the node registered it with an earlier job host of this job, which was lost,
     * so the job host that gets it takes over and resumes the job from its newest checkpoint.
     */
    record RegisterDevice(int device, ActorRef<DeviceActor.Command> ref, JobFingerprint fingerprint, String node, boolean again,
            ActorRef<Registration> replyTo, NodeIdentity.Credential credential) implements ClusterProtocol {}

    /** A server node announces itself, so that a job set up differently is refused before it trains. */
    record RegisterServer(JobFingerprint fingerprint, String node, ActorRef<Registration> replyTo, NodeIdentity.Credential credential)
            implements ClusterProtocol {}

    /**
     * An aggregator node that hosts nothing else: a standby for the job host, told when the job
     * finishes like every registered node.
     */
    record RegisterStandby(JobFingerprint fingerprint, String node, ActorRef<Registration> replyTo, NodeIdentity.Credential credential)
            implements ClusterProtocol {}

    /** The job host's answer to a registration. */
    sealed interface Registration extends WireMessage {}

    /** Registered with the job host at {@code jobHost}; {@code host} is watched, and the node registers again with its successor. */
    record Accepted(String jobHost, ActorRef<ClusterProtocol> host) implements Registration {}

    /** The node's job settings disagree with the job host's: {@code reason} names the setting. */
    record Refused(String reason) implements Registration {}

    /** The job finished: the job host tells every other node it accepted, before it leaves. */
    record Finished() implements Registration {}

    /** The job cannot go on (a job host took over with no checkpoint to resume from): {@code reason} says why and what to do. */
    record Abandoned(String reason) implements Registration {}

    /** The coordinator's result, on the job host (never crosses nodes). */
    record JobDone(JobResult result) implements ClusterProtocol, NoSerializationVerificationNeeded {}
}
