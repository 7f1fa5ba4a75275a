package io.splitfed.runtime.experiment;

import java.nio.file.Path;
import java.util.List;

/** A named grid of training runs and how to report it. */
public interface Experiment {

    String name();

    String description();

    /** What every experiment's quick version changes: less data, fewer rounds and epochs. */
    static void quick(java.util.Map<String, Object> overrides) {
        overrides.put("data.train-limit", 6000);
        overrides.put("data.eval-limit", 1000);
        overrides.put("federation.rounds", 4);
        overrides.put("federation.epochs", 2);
    }

    /** The grid; {@code quick} is a smaller, faster version of the same comparison. */
    List<Cell> cells(boolean quick);

    /** Markdown for the results (and any files it writes under {@code outDir}). */
    String report(List<CellResult> results, Path outDir, boolean quick) throws Exception;
}
