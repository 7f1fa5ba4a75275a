package io.splitfed.actors.server;

import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.head.ClassificationHead;
import io.splitfed.model.tensor.TensorPayload;

import java.util.Arrays;

/**
 * What a shard checks before a micro-batch may touch its adapter: a known device, a split point
 * the server's blocks start at or after, a round that is open or next, labels and lengths that fit
 * the batch (none in the U-shape, whose labels stay on the device), and activations of the right
 * shape with nothing but finite values.
 */
final class ForwardCheck {

    private ForwardCheck() {}

    /** Why {@code f} must be refused, or null when it may be trained. */
    static String problem(ServerShard.Forward f, ShardSettings settings, int currentRound) {
        int devices = settings.spec().federation().devices();
        if (f.device() < 0 || f.device() >= devices) {
            return "unknown device " + f.device() + " (the job has devices 0.." + (devices - 1) + ")";
        }
        if (f.round() > currentRound + 1) {
            return "round " + f.round() + " is ahead of the shard's round " + currentRound;
        }
        int layers = settings.model().numLayers();
        int lowest = settings.spec().federation().minSplitPoint();
        if (f.splitPoint() < lowest || f.splitPoint() > layers) {
            return "split point " + f.splitPoint() + " is outside " + lowest + ".." + layers + " (the server's blocks)";
        }
        TokenBatch b = f.batch();
        TensorPayload acts = f.activations();
        if (b == null || acts == null) {
            return "no " + (b == null ? "batch" : "activations");
        }
        int hidden = settings.model().config().hiddenSize();
        int[] expected = {b.batch(), b.seqLen(), hidden};
        if (!Arrays.equals(acts.shape(), expected)) {
            return "activations have shape " + Arrays.toString(acts.shape()) + ", expected " + Arrays.toString(expected)
                    + " (batch, tokens, hidden size)";
        }
        if (b.lengths() == null || b.lengths().length != b.batch()) {
            return "the batch has " + (b.lengths() == null ? "no" : b.lengths().length) + " row lengths for " + b.batch() + " rows";
        }
        for (int len : b.lengths()) {
            if (len < 1 || len > b.seqLen()) {
                return "a row length of " + len + " is outside 1.." + b.seqLen();
            }
        }
        if (settings.uShape() != null) {
            if (b.labels() != null || b.targets() != null) {
                return "the batch carries labels, which in the U-shaped split stay on the device";
            }
        } else if (settings.head() instanceof ClassificationHead c) {
            if (b.labels() == null || b.labels().length != b.batch()) {
                return "the batch needs one label per row";
            }
            for (int label : b.labels()) {
                if (label < 0 || label >= c.numLabels()) {
                    return "label " + label + " is outside 0.." + (c.numLabels() - 1);
                }
            }
        }
        long bad = acts.firstNonFinite();
        if (bad >= 0) {
            return "activations hold NaN or Inf (first at value " + bad + ")";
        }
        return null;
    }
}
