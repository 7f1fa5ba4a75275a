package io.splitfed.model.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;

import org.junit.jupiter.api.Test;

/**
 * {@code splitfed.engine.base-precision}: fp32 (and auto) on the CPU; bf16 and fp16 only on a GPU,
 * refused on the CPU with the setting and the reason; a value that is none of these is refused.
 */
class BasePrecisionTest {

    @Test
    void theCpuHoldsTheBaseInFp32AndRefusesBf16AndFp16WithTheSetting() {
        TensorExecutor.shared().place("cpu");
        TensorExecutor.shared().holdBaseIn("auto");
        assertThat(TensorExecutor.shared().basePrecision()).isEqualTo(BasePrecision.FP32);
        TensorExecutor.shared().holdBaseIn("fp32");
        assertThat(TensorExecutor.shared().basePrecision()).isEqualTo(BasePrecision.FP32);
        for (String low : new String[] {"bf16", "fp16"}) {
            assertThatThrownBy(() -> TensorExecutor.shared().holdBaseIn(low)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("splitfed.engine.base-precision = " + low + " on cpu()").hasMessageContaining("use fp32 or auto on the CPU");
        }
        assertThat(TensorExecutor.shared().basePrecision()).as("a refused value leaves the setting as it was").isEqualTo(BasePrecision.FP32);
        assertThatThrownBy(() -> TensorExecutor.shared().holdBaseIn("int8")).hasMessageContaining("splitfed.engine.base-precision = 'int8'")
                .hasMessageContaining("expected auto, fp32, bf16 or fp16");
    }

    @Test
    void aGpuMayHoldTheBaseInBf16OrFp16AndAutoStaysFp32UntilOneHasRun() {
        assertThat(BasePrecision.parse("bf16", Device.gpu())).isEqualTo(BasePrecision.BF16);
        assertThat(BasePrecision.parse("FP16", Device.gpu(1))).isEqualTo(BasePrecision.FP16);
        assertThat(BasePrecision.parse("auto", Device.gpu())).isEqualTo(BasePrecision.FP32);
    }
}
