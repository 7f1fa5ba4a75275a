package io.splitfed.runtime.data;

import io.splitfed.runtime.cli.UserError;

import com.typesafe.config.Config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where splitfed finds its data: an explicit path first (a flag or setting), then the data root,
 * which is {@code SPLITFED_DATA} when set (this machine's {@code ../shared/data} is one) and the
 * per-user cache {@code ~/.cache/splitfed/data} otherwise, where {@code splitfed data fetch} puts it.
 */
public final class DataRoot {

    private DataRoot() {}

    /** The data root: {@code SPLITFED_DATA}, else the per-user cache. */
    public static Path resolve() {
        String env = System.getenv("SPLITFED_DATA");
        return env != null && !env.isBlank() ? Path.of(env) : cache();
    }

    /** {@code ~/.cache/splitfed/data}, as reference.conf's {@code splitfed.data-root} defaults to. */
    public static Path cache() {
        return Path.of(System.getProperty("user.home"), ".cache", "splitfed", "data");
    }

    /**
     * Refuses a job whose data files are missing, before anything loads: a file under the data root
     * that a fetchable task provides names the command that fetches it.
     */
    public static void requireJobData(Config config) {
        Path root = Path.of(config.getString("splitfed.data-root"));
        for (String key : new String[] {"splitfed.job.data.train", "splitfed.job.data.eval"}) {
            if (!config.hasPath(key) || config.getString(key).isBlank()) {
                continue;
            }
            Path file = Path.of(config.getString(key));
            if (Files.exists(file)) {
                continue;
            }
            Optional<String> task = providing(root, file);
            throw new UserError(task.map(t -> file + ": no such file; the data root " + root + " has no " + t.toUpperCase(java.util.Locale.ROOT)
                    + " yet. Fetch it with: splitfed data fetch " + t + (root.equals(resolve()) ? "" : " --into " + root)
                    + " (or set SPLITFED_DATA to a directory that holds it)")
                    .orElse(file + ": no such file (" + key + ")"));
        }
    }

    /** The pinned task whose outputs include {@code file} under {@code root}. */
    static Optional<String> providing(Path root, Path file) {
        Path normalized = file.toAbsolutePath().normalize();
        for (DataManifest.Task t : DataManifest.pinned().tasks().values()) {
            for (DataManifest.Source s : t.sources()) {
                for (DataManifest.Output o : s.outputs()) {
                    if (root.resolve(o.target()).toAbsolutePath().normalize().equals(normalized)) {
                        return Optional.of(t.name());
                    }
                }
            }
        }
        return Optional.empty();
    }
}
