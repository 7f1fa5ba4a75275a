package io.splitfed.model.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.function.Supplier;

/**
 * The one place that reaches into the PyTorch engine: grad mode and back-propagation with an
 * upstream gradient, which DJL's public GradientCollector does not offer. Because all tensor math
 * runs on {@link TensorExecutor}'s thread, several autograd graphs (a device part waiting for its
 * cut gradient, a server step) can be alive at once without a GradientCollector.
 */
public final class Autograd {

    private Autograd() {}

    /** Turns graph recording on or off for the tensor thread. */
    public static void setEnabled(boolean enabled) {
        TensorExecutor.checkOnTensorThread();
        JniUtils.setGradMode(enabled);
    }

    public static boolean isEnabled() {
        return JniUtils.isGradMode();
    }

    /** Runs {@code body} with graph recording on, restoring the previous mode. */
    public static <T> T recording(Supplier<T> body) {
        return withMode(true, body);
    }

    /** Runs {@code body} with graph recording off, restoring the previous mode. */
    public static <T> T noGrad(Supplier<T> body) {
        return withMode(false, body);
    }

    private static <T> T withMode(boolean mode, Supplier<T> body) {
        TensorExecutor.checkOnTensorThread();
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(mode);
        try {
            return body.get();
        } finally {
            JniUtils.setGradMode(before);
        }
    }

    /** Back-propagates a scalar loss. */
    public static void backward(NDArray loss) {
        try (NDArray one = loss.getManager().ones(loss.getShape(), loss.getDataType())) {
            backward(loss, one);
        }
    }

    /**
     * Back-propagates {@code upstream} (the gradient of the loss with respect to {@code output})
     * into every leaf that requires a gradient. Frees the graph.
     */
    public static void backward(NDArray output, NDArray upstream) {
        TensorExecutor.checkOnTensorThread();
        JniUtils.backward((PtNDArray) output, (PtNDArray) upstream, false, false);
    }

    /** The gradient accumulated on a leaf, or null if backward never reached it. Caller closes. */
    public static NDArray gradientOrNull(NDArray leaf) {
        return JniUtils.getGradient((PtNDArray) leaf);
    }
}
