package io.splitfed.runtime.cli;

import io.splitfed.runtime.data.DataFetch;
import io.splitfed.runtime.data.DataManifest;
import io.splitfed.runtime.data.DataRoot;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code splitfed data}: the data sets splitfed trains on, fetched and verified into the data root. */
@Command(name = "data", mixinStandardHelpOptions = true, subcommands = {DataCommand.Fetch.class, DataCommand.Show.class},
        description = {"The data sets splitfed reads, under the data root: SPLITFED_DATA when set, else ~/.cache/splitfed/data.",
            "`splitfed data fetch sst2` downloads SST-2 from its canonical URL, checks its pinned size, SHA-256 and row counts, and",
            "unpacks it there; `splitfed data list` shows what is fetched."})
public final class DataCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code splitfed data fetch TASK...}. */
    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = {"Download TASK's files from their canonical URLs (or a mirror), verify their pinned size and SHA-256 and",
                "their row counts, and unpack them into the data root. A partial download resumes; a file with other bytes is refused",
                "and nothing is kept. Prints each set's licence."})
    static final class Fetch implements Callable<Integer> {

        @Parameters(arity = "1..*", paramLabel = "TASK", description = "sst2, gsm8k or flash-trace (see splitfed data list)")
        List<String> tasks;

        @Option(names = "--mirror", description = "A root that serves the same files at the canonical URLs' paths, e.g. URL/glue/data/SST-2.zip; "
                + "the pinned checksums still decide")
        String mirror;

        @Option(names = "--into", description = "The data root to fill (default: SPLITFED_DATA, else ~/.cache/splitfed/data)")
        Path into;

        @Option(names = "--manifest", description = "A manifest of other files in the pinned manifest's shape (JSON), instead of splitfed's")
        Path manifest;

        @Option(names = "--stall", defaultValue = "30s", description = "Give up a connection that delivers nothing for this long (default: ${DEFAULT-VALUE})")
        String stall;

        @Option(names = "--tries", defaultValue = "4", description = "Attempts per file, each resuming the last; waits double from 1 s (default: ${DEFAULT-VALUE})")
        int tries;

        @Override
        public Integer call() {
            Duration stallFor;
            try {
                stallFor = com.typesafe.config.ConfigFactory.parseString("d = " + com.typesafe.config.ConfigUtil.quoteString(stall)).getDuration("d");
            } catch (com.typesafe.config.ConfigException e) {
                throw new UserError("--stall " + stall + ": expected a duration such as 30s or 2m");
            }
            if (tries < 1) {
                throw new UserError("--tries " + tries + ": expected at least 1");
            }
            DataManifest m = manifest == null ? DataManifest.pinned() : DataManifest.read(manifest);
            Path root = into != null ? into : DataRoot.resolve();
            DataFetch fetch = new DataFetch(root, mirror, stallFor, tries, Duration.ofSeconds(1), System.out);
            for (String t : tasks) {
                fetch.fetch(m.task(t));
            }
            System.out.println("data root " + root + (into == null && System.getenv("SPLITFED_DATA") == null ? " (the default; SPLITFED_DATA moves it)" : ""));
            return 0;
        }
    }

    /** {@code splitfed data list}. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "The tasks splitfed fetches, their licences, and which are in the data root")
    static final class Show implements Callable<Integer> {

        @Option(names = "--into", description = "The data root to look in (default: SPLITFED_DATA, else ~/.cache/splitfed/data)")
        Path into;

        @Override
        public Integer call() {
            Path root = into != null ? into : DataRoot.resolve();
            System.out.println("data root " + root);
            for (DataManifest.Task t : DataManifest.pinned().tasks().values()) {
                boolean here = t.sources().stream().flatMap(s -> s.outputs().stream()).allMatch(o -> Files.isRegularFile(root.resolve(o.target())));
                System.out.printf("%-12s %-8s %s; licence: %s%n", t.name(), here ? "fetched" : "missing", t.title(), t.licence());
            }
            return 0;
        }
    }
}
