package io.splitfed.model.lora;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.io.CheckpointFormatException;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Whether an adapter fits a model before it is used: the family it was trained on (when it says),
 * every adapted module (it must exist in the model, with A of shape (r, in) and B of shape (out, r)),
 * and every fully trained tensor (the head's). A misfit is refused naming the adapter, the tensor,
 * and both shapes, before PyTorch sees it.
 */
public final class AdapterFit {

    private AdapterFit() {}

    /**
     * @param dir the adapter directory, for messages and its saved family
     * @param modules the model's adaptable projections over all its layers
     * @param fullTensors the shapes of the tensors the task's head trains in full
     * @param model the model's shape
     * @param modelName what the user called the model (its path)
     */
    public static void check(Path dir, LoraAdapter adapter, List<LoraModule> modules, Map<String, int[]> fullTensors, ModelConfig model, String modelName) {
        Path weights = dir.resolve(PeftAdapterFormat.WEIGHTS_FILE);
        String family = PeftAdapterFormat.family(dir);
        String modelFamily = model.family().name().toLowerCase(Locale.ROOT);
        if (family != null && !family.equals(modelFamily)) {
            throw new CheckpointFormatException(weights, "was trained on a " + family + " model, but " + modelName + " is " + modelFamily
                    + "; pass the model it was trained on with --model");
        }
        Map<String, LoraModule> byPath = new LinkedHashMap<>();
        modules.forEach(m -> byPath.put(m.path(), m));
        for (String path : adapter.modulePaths()) {
            LoraModule m = byPath.get(path);
            if (m == null) {
                throw new CheckpointFormatException(weights, "adapts module '" + path + "', which " + modelName + " (" + modelFamily + ", "
                        + model.numLayers() + " layers) does not have; was it trained on another model?");
            }
            int[] a = adapter.get(m.keyA()).shape();
            int[] b = adapter.get(m.keyB()).shape();
            if (a[1] != m.inFeatures() || b[0] != m.outFeatures()) {
                throw new CheckpointFormatException(weights, "module '" + path + "' has A " + Arrays.toString(a) + " and B " + Arrays.toString(b)
                        + "; " + modelName + " needs A (r, " + m.inFeatures() + ") and B (" + m.outFeatures() + ", r)");
            }
        }
        for (String key : adapter.fullKeys()) {
            int[] want = fullTensors.get(key);
            int[] have = adapter.get(key).shape();
            if (want == null) {
                throw new CheckpointFormatException(weights, "holds tensor '" + key + "', which this task's head does not train (it trains "
                        + fullTensors.keySet() + "); was it trained on another model or task?");
            }
            if (!Arrays.equals(want, have)) {
                throw new CheckpointFormatException(weights, "tensor '" + key + "' has shape " + Arrays.toString(have) + "; " + modelName
                        + " with this task's head needs " + Arrays.toString(want) + " (another model, or another number of labels?)");
            }
        }
    }

    /** Every target, for listing all of a model's adaptable modules. */
    public static java.util.Set<LoraTarget> allTargets() {
        return EnumSet.allOf(LoraTarget.class);
    }
}
