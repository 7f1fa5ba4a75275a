package io.splitfed.model.io;

import java.nio.file.Files;
import java.nio.file.Path;

/** Picks the reader for a model path: a Hugging Face directory, a .safetensors file, or llama2.c .bin. */
public final class CheckpointLoader {

    private CheckpointLoader() {}

    public static LoadedWeights load(Path path) {
        if (!Files.exists(path)) {
            throw new CheckpointFormatException(path, "no such file or directory");
        }
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".bin")
                && !path.getFileName().toString().equals("pytorch_model.bin")) {
            return Llama2cCheckpoint.load(path);
        }
        return HfCheckpoint.load(path);
    }
}
