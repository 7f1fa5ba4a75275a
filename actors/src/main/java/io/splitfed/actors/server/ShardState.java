package io.splitfed.actors.server;

import io.splitfed.actors.link.LinkShaper;
import io.splitfed.actors.metrics.StepLoss;
import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.model.nn.ModelSegment;
import io.splitfed.model.tensor.TensorPayload;
import io.splitfed.model.train.AdamW;
import io.splitfed.model.train.SegmentLearner;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A shard's memory, kept outside its behaviour so that a restart by supervision resumes exactly:
 * adapters and optimizer moments, the last micro-batch trained per device (so a resent one is
 * answered, not trained again), the queue, and the round's figures. Touched only by the actor.
 */
public final class ShardState {

    static final int SHARED = -1;

    final ShardSettings settings;
    final Map<Integer, SegmentLearner> learners = new LinkedHashMap<>();
    final Map<Integer, Long> lastTrained = new HashMap<>();
    final Map<Integer, Map<Long, TensorPayload>> recentGradients = new HashMap<>();
    final Map<Integer, LinkShaper> downlinks = new HashMap<>();
    final ArrayDeque<ServerShard.Forward> queue = new ArrayDeque<>();
    final List<ServerShard.Forward> early = new ArrayList<>();
    ServerShard.Forward inProgress;
    int round = -1;
    boolean accepting;
    ServerShard.CloseRound pendingClose;
    /** The latest aggregate; replicas created later start from it. */
    io.splitfed.model.lora.LoraAdapter global;

    Map<Integer, Integer> trainedSamples = new LinkedHashMap<>();
    Map<Integer, Integer> replicaSamples = new LinkedHashMap<>();
    int duplicates;
    List<String> rejected = new ArrayList<>();
    List<StepLoss> losses = new ArrayList<>();
    List<TimelineEvent> timeline = new ArrayList<>();
    double trainSeconds;
    double flops;
    long bytesDown;
    long stepsTotal;

    public ShardState(ShardSettings settings) {
        this.settings = settings;
    }

    /** The learner that trains {@code device}'s micro-batches: its own replica, or the shared one. */
    SegmentLearner learnerFor(int device) {
        int key = settings.perDeviceReplicas() ? device : SHARED;
        return learners.computeIfAbsent(key, k -> SegmentLearner.create(
                ModelSegment.serverPart(settings.model(), settings.spec().federation().minSplitPoint(), settings.head()),
                (global != null ? global : settings.initialAdapter()).copy(),
                new AdamW(settings.spec().training().optimizer(), settings.schedule()),
                settings.spec().training().backward(),
                settings.spec().seed() * 7919 + settings.shard() * 131L + k));
    }

    void resetRound(int newRound) {
        round = newRound;
        trainedSamples = new LinkedHashMap<>();
        replicaSamples = new LinkedHashMap<>();
        duplicates = 0;
        rejected = new ArrayList<>();
        losses = new ArrayList<>();
        timeline = new ArrayList<>();
        trainSeconds = 0;
        flops = 0;
        bytesDown = 0;
    }

    LinkShaper downlink(int device) {
        JobLinks l = JobLinks.of(settings.spec());
        return downlinks.computeIfAbsent(device, d -> l.enabled() ? new LinkShaper(l.downMbps(), l.latency()) : null);
    }

    /** Link settings, pulled out of the spec once. */
    record JobLinks(boolean enabled, double downMbps, java.time.Duration latency) {
        static JobLinks of(io.splitfed.actors.job.JobSpec spec) {
            return new JobLinks(spec.links().enabled(), spec.links().downlinkMbps(), spec.links().latency());
        }
    }
}
