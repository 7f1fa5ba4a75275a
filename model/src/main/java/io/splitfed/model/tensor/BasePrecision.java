package io.splitfed.model.tensor;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;

import java.util.Locale;

/**
 * The type the frozen base's block matrices are held in ({@code splitfed.engine.base-precision}).
 * LoRA adapters, the classifier, optimizer moments, embeddings, norms and biases stay fp32; a
 * block's linear layer runs its matmul in this type and hands fp32 on, as QLoRA-style trainers do
 * on a GPU. bf16 and fp16 are for GPUs only and have not run on one yet, so {@code auto} is fp32
 * everywhere until they have. On the CPU they are refused: PyTorch 2.7.1's CPU autograd crashed
 * the JVM (SIGSEGV in {@code at::accelerator::getAccelerator}) in the backward through a bf16
 * base when it was tried here, after minutes of slow bf16 math, and the CPU gains nothing from it.
 */
public enum BasePrecision {
    FP32(DataType.FLOAT32),
    BF16(DataType.BFLOAT16),
    FP16(DataType.FLOAT16);

    private final DataType dataType;

    BasePrecision(DataType dataType) {
        this.dataType = dataType;
    }

    public DataType dataType() {
        return dataType;
    }

    /** {@code auto}, {@code fp32}, {@code bf16} or {@code fp16}, checked against {@code device}. */
    public static BasePrecision parse(String spec, Device device) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        BasePrecision p = switch (s) {
            case "auto", "fp32" -> FP32;
            case "bf16" -> BF16;
            case "fp16" -> FP16;
            default -> throw new IllegalArgumentException("splitfed.engine.base-precision = '" + spec + "': expected auto, fp32, bf16 or fp16");
        };
        if (p != FP32 && !device.isGpu()) {
            throw new IllegalArgumentException("splitfed.engine.base-precision = " + s + " on " + device
                    + ": only a GPU holds the base in " + s + " (PyTorch's CPU autograd crashed through it here); use fp32 or auto on the CPU");
        }
        return p;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
