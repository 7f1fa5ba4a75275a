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
        // llama2.c ships tokenizer.bin (Llama 2's 32,000 pieces) beside models trained with their own
        // tok<N>.bin: take the first whose vocabulary is the model's
        StringBuilder seen = new StringBuilder();
        for (String name : new String[] {"tok" + config.vocabSize() + ".bin", "tokenizer.bin"}) {
            if (Files.isRegularFile(dir.resolve(name))) {
                Llama2cTokenizer tok = Llama2cTokenizer.load(dir.resolve(name));
                if (tok.vocabSize() == config.vocabSize()) {
                    return tok;
                }
                seen.append(name).append(" has ").append(tok.vocabSize()).append(" pieces; ");
            }
        }
        throw new CheckpointFormatException(dir, "has no tokenizer for this Llama model with " + config.vocabSize() + " pieces ("
                + seen + "); pass --tokenizer (a llama2.c tokenizer .bin)");
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
