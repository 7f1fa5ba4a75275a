package io.splitfed.actors.checkpoint;

import io.splitfed.model.io.AtomicFiles;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Checkpoint files in a directory: {@code round-NNNN.ckpt} (a small text header with the job's
 * {@link CheckpointFingerprint}, then the checkpoint in the job's own wire format) and {@code LATEST},
 * naming the newest. Each is written atomically (write, fsync, rename), {@code LATEST} last, so a
 * crash at any moment leaves the previous checkpoint whole and named. A job resumes only from its
 * own checkpoints: another job's is refused, naming each field that differs.
 */
public final class Checkpoints {

    private static final String MAGIC = "splitfed-checkpoint/2";
    /** Written before checkpoints carried their job's fingerprint; still read, unchecked. */
    private static final String MAGIC_V1 = "splitfed-checkpoint/1";
    private static final String LATEST = "LATEST";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Checkpoints.class);

    private Checkpoints() {}

    /** Writes {@code c}, the checkpoint of the job {@code job}, into {@code dir} and keeps the newest {@code keep}; returns its file. */
    public static Path write(ActorSystem<?> system, Path dir, JobCheckpoint c, CheckpointFingerprint job, int keep) {
        Serialization ser = SerializationExtension.get(system);
        byte[] body = ser.serialize(c).get();
        var serializer = ser.findSerializerFor(c);
        String manifest = Serializers.manifestFor(serializer, c);
        Path file = dir.resolve(String.format("round-%04d.ckpt", c.roundsDone()));
        AtomicFiles.write(file, out -> {
            StringBuilder head = new StringBuilder(MAGIC).append('\n');
            (job == null ? new CheckpointFingerprint(java.util.Map.of()) : job).headerLines().forEach(l -> head.append(l).append('\n'));
            head.append("serializer: ").append(serializer.identifier()).append('\n').append("manifest: ").append(manifest).append('\n')
                    .append("length: ").append(body.length).append('\n');
            out.write(head.toString().getBytes(StandardCharsets.UTF_8));
            out.write(body);
        });
        AtomicFiles.write(dir.resolve(LATEST), out -> out.write((file.getFileName() + "\n").getBytes(StandardCharsets.UTF_8)));
        prune(dir, keep);
        return file;
    }

    /**
     * The newest intact checkpoint in {@code dir}, or null when it holds none: the one {@code LATEST}
     * names, else the highest-numbered {@code round-NNNN.ckpt} that reads. A damaged or missing
     * newest one is skipped, with a warning that names it; when every one is damaged,
     * {@link CheckpointsUnusable} names each file and what is wrong with it.
     *
     * @param job the resuming job's fingerprint (null: not checked); a checkpoint of another job
     *     is refused with {@link CheckpointOfAnotherJob}, not skipped, since the whole directory is
     *     then another job's
     */
    public static JobCheckpoint latest(ActorSystem<?> system, Path dir, CheckpointFingerprint job) {
        List<Path> candidates = new ArrayList<>();
        Path latest = dir.resolve(LATEST);
        if (Files.isRegularFile(latest)) {
            try {
                String name = Files.readString(latest, StandardCharsets.UTF_8).trim();
                if (!name.isEmpty()) {
                    candidates.add(dir.resolve(name));
                }
            } catch (IOException e) {
                LOG.warn("cannot read {} ({}); looking for the newest intact checkpoint in {}", latest, e.toString(), dir);
            }
        }
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(p -> p.getFileName().toString().matches("round-\\d+\\.ckpt")).sorted(Comparator.reverseOrder())
                        .filter(p -> !candidates.contains(p)).forEach(candidates::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list checkpoints in " + dir, e);
            }
        }
        if (candidates.isEmpty()) {
            return null;
        }
        List<String> problems = new ArrayList<>();
        for (Path file : candidates) {
            try {
                JobCheckpoint c = read(system, file, job);
                if (!problems.isEmpty()) {
                    LOG.warn("resuming from {} (after round {}), the newest intact checkpoint; skipped: {}", file, c.roundsDone(),
                            String.join("; ", problems));
                }
                return c;
            } catch (CheckpointOfAnotherJob e) {
                throw e;
            } catch (IllegalArgumentException | UncheckedIOException e) {
                problems.add(e instanceof UncheckedIOException u && u.getCause() instanceof java.nio.file.NoSuchFileException
                        ? file + ": no such file (named by " + latest.getFileName() + ")" : e.getMessage());
            }
        }
        throw new CheckpointsUnusable("no intact checkpoint in " + dir + " to resume from: " + String.join("; ", problems));
    }

    /** Every checkpoint in a directory is damaged or missing: nothing to resume from. */
    public static final class CheckpointsUnusable extends IllegalArgumentException {
        public CheckpointsUnusable(String message) {
            super(message);
        }
    }

    /** A checkpoint written by another job: its fingerprint differs from the resuming job's. */
    public static final class CheckpointOfAnotherJob extends IllegalArgumentException {
        public CheckpointOfAnotherJob(String message) {
            super(message);
        }
    }

    /** Reads one checkpoint file, whichever job wrote it; a clear error names the file and what is wrong with it. */
    public static JobCheckpoint read(ActorSystem<?> system, Path file) {
        return read(system, file, null);
    }

    /**
     * Reads one checkpoint file of the job {@code job} (null: any job's). Every failure, the
     * serializer's checked exceptions included, is an {@link IllegalArgumentException} that names
     * the file.
     */
    public static JobCheckpoint read(ActorSystem<?> system, Path file, CheckpointFingerprint job) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + file, e);
        }
        ByteBuffer buf = ByteBuffer.wrap(all);
        String magic = line(buf, file);
        int serializerId;
        int length;
        String manifest;
        Map<String, String> fields = new LinkedHashMap<>();
        try {
            if (MAGIC_V1.equals(magic)) {
                serializerId = Integer.parseInt(line(buf, file));
                manifest = line(buf, file);
                length = Integer.parseInt(line(buf, file));
            } else if (MAGIC.equals(magic)) {
                String l = line(buf, file);
                while (CheckpointFingerprint.readHeaderLine(l, fields)) {
                    l = line(buf, file);
                }
                serializerId = Integer.parseInt(field(l, "serializer", file));
                manifest = field(line(buf, file), "manifest", file);
                length = Integer.parseInt(field(line(buf, file), "length", file));
            } else {
                throw new IllegalArgumentException(file + " is not a splitfed checkpoint (header \"" + magic + "\", expected \"" + MAGIC + "\")");
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": damaged checkpoint header (" + e.getMessage() + ")");
        }
        if (job != null) {
            if (MAGIC_V1.equals(magic)) {
                LOG.warn("{} was written by an older splitfed, before checkpoints named their job: resuming it unchecked", file);
            } else {
                List<String> differ = new CheckpointFingerprint(fields).differences(job);
                if (!differ.isEmpty()) {
                    throw new CheckpointOfAnotherJob(file + " is the checkpoint of another job: " + String.join("; ", differ)
                            + ". Resume with the settings it was written with, or start afresh with another --checkpoint-dir");
                }
            }
        }
        if (buf.remaining() != length) {
            throw new IllegalArgumentException(file + ": checkpoint body is " + buf.remaining() + " bytes, the header says " + length + " (truncated?)");
        }
        byte[] body = new byte[length];
        buf.get(body);
        Object o;
        try {
            o = SerializationExtension.get(system).deserialize(body, serializerId, manifest).get();
        } catch (Exception e) { // Pekko's Try rethrows checked exceptions too (NotSerializableException for an unknown serializer)
            throw new IllegalArgumentException(file + ": cannot decode the checkpoint: " + e.getMessage() + " (" + e.getClass().getSimpleName()
                    + "); it may come from another splitfed version", e);
        }
        if (!(o instanceof JobCheckpoint c)) {
            throw new IllegalArgumentException(file + " holds a " + o.getClass().getName() + ", not a job checkpoint");
        }
        for (var global : java.util.Arrays.asList(c.globalDevice(), c.globalServer())) {
            if (global != null && !global.allFinite()) {
                throw new IllegalArgumentException(file + ": its global adapter holds non-finite weights; a checkpoint is resumed only with finite ones");
            }
        }
        return c;
    }

    /** The value of a {@code NAME: VALUE} header line, or a clear error naming the file. */
    private static String field(String line, String name, Path file) {
        if (!line.startsWith(name + ": ")) {
            throw new IllegalArgumentException(file + ": damaged checkpoint header (expected \"" + name + ": ...\", found \"" + line + "\")");
        }
        return line.substring(name.length() + 2);
    }

    private static String line(ByteBuffer buf, Path file) {
        StringBuilder sb = new StringBuilder();
        while (buf.hasRemaining()) {
            byte b = buf.get();
            if (b == '\n') {
                return sb.toString();
            }
            if (sb.length() > 4096) {
                break;
            }
            sb.append((char) b);
        }
        throw new IllegalArgumentException(file + " is not a splitfed checkpoint (no header line)");
    }

    private static void prune(Path dir, int keep) {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> all = new ArrayList<>(files.filter(p -> p.getFileName().toString().matches("round-\\d+\\.ckpt")).sorted().toList());
            for (int i = 0; i < all.size() - Math.max(1, keep); i++) {
                Files.deleteIfExists(all.get(i));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prune old checkpoints in " + dir, e);
        }
    }
}
