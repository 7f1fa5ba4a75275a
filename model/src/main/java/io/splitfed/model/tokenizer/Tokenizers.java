package io.splitfed.model.tokenizer;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.config.ModelFamily;
import io.splitfed.model.io.CheckpointFormatException;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the tokenizer for a model: a path the user names, files beside the model, or GPT-2's built-in BPE. */
public final class Tokenizers {

    private Tokenizers() {}

    /**
     * @param tokenizerPath a llama2.c {@code .bin}, a {@code tokenizer.json}, or a directory with
     *     {@code vocab.json} + {@code merges.txt}; null to look beside the model
     */
    public static Tokenizer load(Path tokenizerPath, Path modelPath, ModelConfig config) {
        if (tokenizerPath != null) {
            return fromPath(tokenizerPath);
        }
        Path dir = Files.isDirectory(modelPath) ? modelPath : modelPath.toAbsolutePath().getParent();
        if (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"))) {
            return ByteLevelBpeTokenizer.load(dir);
        }
        if (Files.isRegularFile(dir.resolve("tokenizer.json")) && config.family() == ModelFamily.GPT2) {
            return ByteLevelBpeTokenizer.load(dir.resolve("tokenizer.json"));
        }
        if (config.family() == ModelFamily.GPT2) {
            return new TiktokenGpt2Tokenizer();
        }
        for (String name : new String[] {"tokenizer.bin", "tok" + config.vocabSize() + ".bin"}) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return Llama2cTokenizer.load(dir.resolve(name));
            }
        }
        throw new CheckpointFormatException(dir, "has no tokenizer for this Llama model; pass --tokenizer (a llama2.c tokenizer .bin)");
    }

    public static Tokenizer fromPath(Path path) {
        String name = path.getFileName().toString();
        if (Files.isRegularFile(path) && name.endsWith(".bin")) {
            return Llama2cTokenizer.load(path);
        }
        if (name.equals("r50k_base") || name.equals("gpt2")) {
            return new TiktokenGpt2Tokenizer();
        }
        return ByteLevelBpeTokenizer.load(path);
    }
}
