package io.splitfed.actors.job;

import io.splitfed.model.data.DataFormatException;
import io.splitfed.model.data.Dataset;

import java.util.Locale;

/**
 * What a job's data must hold before it is dealt to devices. Each refusal names the file, the rows
 * found and the rows needed, in the user's terms (flags), not the code's.
 */
final class DataChecks {

    private DataChecks() {}

    /** A classification file must label its rows; language-modelling data (no label names) needs none. */
    static void requireLabels(Dataset train) {
        if (!train.isClassification()) {
            return;
        }
        long unlabelled = train.examples().stream().filter(e -> e.label() < 0).count();
        if (unlabelled == train.size() && train.size() > 0) {
            throw new DataFormatException(train.source(), 1, "no row has a label: the header names no label column, and "
                    + train.name().toUpperCase(Locale.ROOT) + " classification trains on labels " + train.labelNames()
                    + " (for SST-2, columns: sentence, label)");
        }
        if (unlabelled > 0) {
            throw new DataFormatException(train.source(), unlabelled + " of " + train.size() + " rows have no label; every training row needs one of "
                    + train.labelNames());
        }
    }

    /** The split must leave at least one evaluation row. */
    static void requireEvaluationRows(Dataset train, int evalRows, double validationFraction) {
        if (evalRows == 0) {
            throw new DataFormatException(train.source(), train.size() + " rows are too few to hold out validation rows at validation-fraction "
                    + validationFraction + ": hold-out needs at least " + (int) Math.ceil(1 / Math.max(1e-9, validationFraction))
                    + " rows, or give a separate --eval file");
        }
    }

    /** Every device needs at least one training row. */
    static void requireRowsForDevices(Dataset train, int trainRows, int devices) {
        if (trainRows < devices) {
            throw new DataFormatException(train.source(), train.size() + " rows, of which " + trainRows
                    + " train after the validation hold-out and --train-limit: " + devices + " devices need at least " + devices
                    + " training rows, one each; add rows, or lower --devices");
        }
    }
}
