package io.splitfed.runtime.bench;

import java.util.List;

/** A group of measurements that `splitfed bench` runs and reports as ratios. */
public interface BenchSuite {

    String name();

    String description();

    /** Runs the suite; {@code quick} trades precision for time (CI, smoke runs). */
    List<Comparison> run(boolean quick) throws Exception;
}
