package io.splitfed.model.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

/**
 * Round-to-nearest errs by at most half a step, stochastic rounding is unbiased, half precision
 * round-trips, and non-finite values are found in every encoding.
 */
class QuantizerTest {

    private static float[] activations(int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * (1 + (i % cols) * 0.1));
        }
        return v;
    }

    @Test
    void roundToNearestErrorIsAtMostHalfAStep() {
        float[] x = activations(32, 48, 1);
        for (TensorPayload.Encoding e : new TensorPayload.Encoding[] {
            TensorPayload.Encoding.INT8_TOKEN, TensorPayload.Encoding.INT8_CHANNEL, TensorPayload.Encoding.INT4_TOKEN, TensorPayload.Encoding.INT4_CHANNEL}) {
            TensorPayload p = Quantizer.encode(x, new int[] {32, 48}, e, null);
            float[] y = Quantizer.decode(p);
            for (int i = 0; i < x.length; i++) {
                float scale = p.scales()[e.perChannel() ? i % 48 : i / 48];
                assertThat(Math.abs(y[i] - x[i])).as("%s element %d", e, i).isLessThanOrEqualTo(scale * 0.5f + 1e-6f);
            }
            long values = e.bits() == 8 ? 32 * 48 : 32 * 48 / 2;
            assertThat(p.wireBytes()).isEqualTo(values + 4L * (e.perChannel() ? 48 : 32));
        }
    }

    @Test
    void stochasticRoundingIsUnbiased() {
        float[] x = new float[4096];
        java.util.Arrays.fill(x, 0.3f);
        x[0] = 1f; // sets the scale to 1/7 for int4
        double sum = 0;
        for (int trial = 0; trial < 20; trial++) {
            float[] y = Quantizer.decode(Quantizer.encode(x, new int[] {1, 4096}, TensorPayload.Encoding.INT4_TOKEN, (long) trial));
            for (int i = 1; i < y.length; i++) {
                sum += y[i];
            }
        }
        assertThat(sum / (20 * 4095)).isCloseTo(0.3, org.assertj.core.data.Offset.offset(0.003));
        float[] nearest = Quantizer.decode(Quantizer.encode(x, new int[] {1, 4096}, TensorPayload.Encoding.INT4_TOKEN, null));
        assertThat(nearest[1]).isEqualTo(2f / 7); // round-to-nearest is biased: 0.3 -> 0.2857
    }

    @Test
    void halfPrecisionConversionsRoundTrip() {
        for (float v : new float[] {0f, -0f, 1f, -2.5f, 65504f, 6.1035156e-5f, 5.9604645e-8f, 1e-3f, 3.14159f}) {
            float back = Half.toFloat(Half.fromFloat(v));
            assertThat(Math.abs(back - v)).as("fp16 %s", v).isLessThanOrEqualTo(Math.abs(v) * 1e-3f + 6e-8f);
            float bf = Half.bf16ToFloat(Half.floatToBf16(v));
            assertThat(Math.abs(bf - v)).as("bf16 %s", v).isLessThanOrEqualTo(Math.abs(v) * 1e-2f);
        }
        assertThat(Float.isInfinite(Half.toFloat(Half.fromFloat(1e6f)))).isTrue();
    }

    @Test
    void nonFiniteValuesAreFoundInEveryFloatEncoding() {
        float[] v = {0.5f, -1f, 2f, 3f, -4f, 0.25f};
        for (TensorPayload.Encoding e : new TensorPayload.Encoding[] {TensorPayload.Encoding.F32, TensorPayload.Encoding.F16, TensorPayload.Encoding.BF16}) {
            org.assertj.core.api.Assertions.assertThat(WireCodec.encode(v, new int[] {2, 3}, e, null).firstNonFinite()).as("%s clean", e).isEqualTo(-1);
            float[] bad = v.clone();
            bad[4] = e == TensorPayload.Encoding.F16 ? Float.POSITIVE_INFINITY : Float.NaN;
            org.assertj.core.api.Assertions.assertThat(WireCodec.encode(bad, new int[] {2, 3}, e, null).firstNonFinite()).as("%s", e).isEqualTo(4);
        }
    }
}
