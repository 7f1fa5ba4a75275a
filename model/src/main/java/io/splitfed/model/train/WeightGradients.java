package io.splitfed.model.train;

import ai.djl.ndarray.NDArray;

import io.splitfed.model.nn.ForwardPass;
import io.splitfed.model.tensor.Autograd;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.tensor.TensorTransfer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The W half of a decomposed backward (as in zero-bubble pipeline schedules): after the B half
 * has produced the input gradient and, for every adapted module, the gradient {@code g} of its
 * output, the LoRA weight gradients follow from what the forward pass kept:
 * {@code dB = s g^T (x A^T)} and {@code dA = s (g B)^T x}.
 */
public final class WeightGradients {

    private WeightGradients() {}

    public static Map<String, HostTensor> compute(ForwardPass pass) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (ForwardPass.Capture c : pass.captures()) {
            NDArray g = Autograd.gradientOrNull(c.probe());
            if (g == null) {
                continue; // backward did not reach this module
            }
            String path = c.module().path();
            NDArray a = c.module().a();
            NDArray b = c.module().b();
            long rank = a.getShape().get(0);
            long in = a.getShape().get(1);
            long outF = b.getShape().get(0);
            try (g) {
                double s = c.module().scale();
                NDArray g2 = g.reshape(-1, outF);
                NDArray xa = c.projected().reshape(-1, rank);
                NDArray x = c.input().reshape(-1, in);
                NDArray dB = g2.transpose().matMul(xa).mul((float) s);
                NDArray dA = g2.matMul(b).transpose().matMul(x).mul((float) s);
                out.put(path + ".lora_A.weight", TensorTransfer.toHost(dA));
                out.put(path + ".lora_B.weight", TensorTransfer.toHost(dB));
            }
        }
        return out;
    }
}
