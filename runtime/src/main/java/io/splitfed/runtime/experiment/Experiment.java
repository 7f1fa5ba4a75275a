package io.splitfed.runtime.experiment;

import io.splitfed.runtime.job.JobRunner.AfterJob;

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

    /**
     * What to score once a cell's job is done, while its model is loaded; null: nothing more.
     * {@code settings} are the cell's, resolved (its data root, say).
     */
    default AfterJob afterJob(Cell cell, boolean quick, com.typesafe.config.Config settings) {
        return null;
    }

    /**
     * A data file under {@code splitfed.data-root} as a cell's setting ({@code data.train}...):
     * resolved against the data root of the settings the experiment runs with.
     */
    record DataFile(String relative) {}

    /** Markdown for the results (and any files it writes under {@code outDir}). */
    String report(List<CellResult> results, Path outDir, boolean quick) throws Exception;
}
