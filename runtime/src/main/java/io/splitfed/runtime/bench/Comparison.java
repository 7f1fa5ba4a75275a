package io.splitfed.runtime.bench;

/**
 * One benchmark figure next to the reference it is judged against, both measured in the same run.
 *
 * @param higherIsBetter whether a ratio above 1 is good (throughput) or bad (time, memory)
 */
public record Comparison(String suite, String figure, double value, String unit, String reference, double referenceValue, String referenceUnit, boolean higherIsBetter) {

    public double ratio() {
        return referenceValue == 0 ? Double.NaN : value / referenceValue;
    }
}
