package io.splitfed.model.tokenizer;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.config.ModelFamily;
import io.splitfed.model.io.BuiltinModels;
import io.splitfed.model.io.CheckpointFormatException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the tokenizer for a model: a path the user names, a {@code tokenizer.json} beside the model
 * (run by Hugging Face tokenizers), a built-in model's own, llama2.c's {@code .bin}, or GPT-2's BPE
 * as jtokkit ships it.
 */
public final class Tokenizers {

    private Tokenizers() {}

    /**
     * @param tokenizerPath a llama2.c {@code .bin}, a {@code tokenizer.json} or a directory holding
     *     one; null to look beside the model
     */
    public static Tokenizer load(Path tokenizerPath, Path modelPath, ModelConfig config) {
        if (tokenizerPath != null && !tokenizerPath.toString().isEmpty()) {
            return fromPath(tokenizerPath);
        }
        if (BuiltinModels.isBuiltin(modelPath)) {
            return HfTokenizer.read(modelPath, BuiltinModels.tokenizer(modelPath).orElseThrow());
        }
        Path dir = Files.isDirectory(modelPath) ? modelPath : modelPath.toAbsolutePath().getParent();
        for (Path candidate : new Path[] {dir.resolve("tokenizer.json"), dir.getParent() == null ? null : dir.getParent().resolve("tokenizer.json")}) {
            if (candidate != null && Files.isRegularFile(candidate)) {
                return HfTokenizer.load(candidate);
            }
        }
        if (config.family() == ModelFamily.GPT2) {
            return new TiktokenGpt2Tokenizer();
        }
        if (config.family() == ModelFamily.BERT) {
            throw new CheckpointFormatException(dir, "has no tokenizer.json for this BERT model; pass --tokenizer (its tokenizer.json)");
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
                + seen + "); pass --tokenizer (a tokenizer.json or a llama2.c tokenizer .bin)");
    }

    public static Tokenizer fromPath(Path path) {
        String name = path.getFileName().toString();
        if (Files.isRegularFile(path) && name.endsWith(".bin")) {
            return Llama2cTokenizer.load(path);
        }
        if (name.equals("r50k_base") || name.equals("gpt2")) {
            return new TiktokenGpt2Tokenizer();
        }
        return HfTokenizer.load(path);
    }
}
