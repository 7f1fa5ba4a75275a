package io.splitfed.model.config;

/** Llama 3's frequency-dependent rotary scaling ({@code rope_type: llama3}). */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {

    /** Rescales inverse frequencies the way Llama 3.1/3.2 do. */
    public double[] apply(double[] invFreq) {
        double lowWavelen = originalMaxPositions / lowFreqFactor;
        double highWavelen = originalMaxPositions / highFreqFactor;
        double[] out = new double[invFreq.length];
        for (int i = 0; i < invFreq.length; i++) {
            double f = invFreq[i];
            double wavelen = 2 * Math.PI / f;
            if (wavelen < highWavelen) {
                out[i] = f;
            } else if (wavelen > lowWavelen) {
                out[i] = f / factor;
            } else {
                double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = (1 - smooth) * f / factor + smooth * f;
            }
        }
        return out;
    }
}
