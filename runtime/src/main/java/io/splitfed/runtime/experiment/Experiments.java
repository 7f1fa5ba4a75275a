package io.splitfed.runtime.experiment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The experiments `splitfed experiment` knows by name. */
public final class Experiments {

    private Experiments() {}

    public static Map<String, Experiment> all() {
        Map<String, Experiment> m = new LinkedHashMap<>();
        for (Experiment e : List.<Experiment>of(new PaperExperiment(), new Sst2AccuracyExperiment(), new QuantizationExperiment(), new AllocationExperiment(), new ConvergenceExperiment(),
                new PrivacyExperiment(), new TimeToAccuracyExperiment())) {
            m.put(e.name(), e);
        }
        return m;
    }
}
