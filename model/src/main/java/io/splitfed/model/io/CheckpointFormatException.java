package io.splitfed.model.io;

import java.nio.file.Path;

/** A model or adapter file that does not say what it should; the message names the file and field. */
public class CheckpointFormatException extends RuntimeException {

    private final Path file;

    public CheckpointFormatException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public CheckpointFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
