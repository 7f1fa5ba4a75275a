package io.splitfed.model.io;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Picks the reader for a model path: a built-in model ({@code builtin:all-minilm-l6-v2}), a Hugging
 * Face directory, a .safetensors file, an ONNX export of a BERT encoder, or llama2.c .bin.
 */
public final class CheckpointLoader {

    private CheckpointLoader() {}

    public static LoadedWeights load(Path path) {
        if (BuiltinModels.isBuiltin(path)) {
            return BuiltinModels.load(path);
        }
        if (!Files.exists(path)) {
            throw new CheckpointFormatException(path, "no such file or directory");
        }
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".bin")
                && !path.getFileName().toString().equals("pytorch_model.bin")) {
            return Llama2cCheckpoint.load(path);
        }
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".onnx")) {
            return OnnxCheckpoint.load(path);
        }
        return HfCheckpoint.load(path);
    }
}
