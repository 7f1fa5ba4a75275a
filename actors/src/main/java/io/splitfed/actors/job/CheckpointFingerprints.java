package io.splitfed.actors.job;

import io.splitfed.actors.checkpoint.CheckpointFingerprint;
import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.data.Dataset;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The fingerprint of a prepared job: every setting its checkpoints depend on. A resume that changes
 * one of these would load adapters of another shape, or data cursors into other rows, so it is
 * refused; rounds, deadlines, learning rate and the evaluation set may change.
 */
final class CheckpointFingerprints {

    private CheckpointFingerprints() {}

    static CheckpointFingerprint of(JobSpec spec, ModelConfig model, Dataset train) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("model", spec.model().path().getFileName() + " (" + model.family().name().toLowerCase(Locale.ROOT) + ", " + model.numLayers()
                + " layers, hidden " + model.hiddenSize() + ", vocabulary " + model.vocabSize() + ")");
        f.put("mode", spec.mode().id());
        var lora = spec.training().lora();
        f.put("lora.rank", Integer.toString(lora.rank()));
        f.put("lora.alpha", Double.toString(lora.alpha()));
        f.put("lora.targets", lora.targets().stream().map(t -> t.name().toLowerCase(Locale.ROOT)).sorted().toList().toString());
        f.put("split-points", Arrays.toString(spec.federation().splitPoints()));
        if (spec.uShape().enabled()) { // its adapters split otherwise: the devices hold the tail and the head
            f.put("u-shape", "tail-blocks " + spec.uShape().tailBlocks());
        }
        f.put("devices", Integer.toString(spec.federation().devices()));
        f.put("partition", spec.federation().partition());
        f.put("seed", Long.toString(spec.seed()));
        f.put("task", train.name());
        f.put("labels", String.join(",", train.labelNames()));
        f.put("train-data", digest(spec.data().train()));
        f.put("train-limit", Integer.toString(spec.data().trainLimit()));
        if (spec.data().eval() == null) { // the held-out rows come out of the training file
            f.put("validation-fraction", Double.toString(spec.data().validationFraction()));
        }
        return new CheckpointFingerprint(f);
    }

    /** SHA-256 of a file (of its sorted files' names and bytes, for a directory), with its size. */
    static String digest(Path data) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            List<Path> files;
            if (Files.isDirectory(data)) {
                try (Stream<Path> s = Files.walk(data)) {
                    files = s.filter(Files::isRegularFile).sorted().toList();
                }
            } else {
                files = List.of(data);
            }
            long bytes = 0;
            for (Path file : files) {
                if (files.size() > 1) {
                    sha.update(data.relativize(file).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
                try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
                    bytes += in.transferTo(java.io.OutputStream.nullOutputStream());
                }
            }
            return "sha256 " + HexFormat.of().formatHex(sha.digest()) + " (" + bytes + " bytes)";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + data + " to fingerprint the job", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
