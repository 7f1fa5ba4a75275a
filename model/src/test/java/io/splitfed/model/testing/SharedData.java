package io.splitfed.model.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where the shared data sets and models are: the {@code splitfed.data} system property, the
 * {@code SPLITFED_DATA} environment variable, or {@code ../shared/data} next to the checkout.
 */
public final class SharedData {

    private SharedData() {}

    public static Path root() {
        String prop = System.getProperty("splitfed.data");
        if (prop != null && Files.isDirectory(Paths.get(prop))) {
            return Paths.get(prop).toAbsolutePath().normalize();
        }
        String env = System.getenv("SPLITFED_DATA");
        if (env != null && Files.isDirectory(Paths.get(env))) {
            return Paths.get(env);
        }
        Path dir = Paths.get("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("../shared/data").normalize();
            if (Files.isDirectory(candidate.resolve("sst2"))) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("cannot find shared/data; set -Dsplitfed.data=/path/to/shared/data");
    }

    public static Path path(String relative) {
        return root().resolve(relative);
    }

    public static Path stories260k() {
        return path("models/stories260K/stories260K.bin");
    }

    public static Path stories260kTokenizer() {
        return path("models/stories260K/tok512.bin");
    }

    public static Path tinyGpt2() {
        return path("models/tiny-gpt2");
    }

    public static Path sst2() {
        return path("sst2/train.tsv");
    }
}
