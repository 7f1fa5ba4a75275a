package io.splitfed.actors.checkpoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What makes a checkpoint this job's and no other's: the settings a resumed job must share with the
 * one that wrote it (model, mode, LoRA shape, split points, devices and their data, task and labels,
 * and a digest of the training file). Settings that are safe to change on resume (more rounds,
 * another deadline, another learning rate) are left out, so a resume may change them.
 *
 * <p>A checkpoint file carries it in its header as one {@code job.FIELD: VALUE} line per field,
 * readable with {@code head}.
 *
 * @param fields field name to value, in a stable order
 */
public record CheckpointFingerprint(Map<String, String> fields) {

    public CheckpointFingerprint {
        fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        for (var e : fields.entrySet()) {
            if (e.getKey().isBlank() || e.getKey().contains(":") || e.getKey().contains("\n") || e.getValue().contains("\n")) {
                throw new IllegalArgumentException("a fingerprint field is one line with no colon in its name: " + e);
            }
        }
    }

    /**
     * The fields that differ between the checkpoint's fingerprint ({@code this}) and the job's, each
     * as {@code FIELD: checkpoint A, this job B}; empty when they match.
     */
    public List<String> differences(CheckpointFingerprint job) {
        Set<String> names = new LinkedHashSet<>(fields.keySet());
        names.addAll(job.fields.keySet());
        List<String> out = new ArrayList<>();
        for (String name : names) {
            String mine = fields.get(name);
            String theirs = job.fields.get(name);
            if (!java.util.Objects.equals(mine, theirs)) {
                out.add(name + ": checkpoint " + (mine == null ? "(not recorded)" : mine) + ", this job " + (theirs == null ? "(none)" : theirs));
            }
        }
        return out;
    }

    /** The header lines that carry it, without line ends. */
    List<String> headerLines() {
        return fields.entrySet().stream().map(e -> "job." + e.getKey() + ": " + e.getValue()).toList();
    }

    /** Reads one header line into {@code into}; false when it is not a fingerprint line. */
    static boolean readHeaderLine(String line, Map<String, String> into) {
        int colon = line.indexOf(": ");
        if (!line.startsWith("job.") || colon < 0) {
            return false;
        }
        into.put(line.substring(4, colon), line.substring(colon + 2));
        return true;
    }
}
