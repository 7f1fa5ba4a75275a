package io.splitfed.model.data;

import java.nio.file.Path;

/** A data file that does not hold what its format promises; the message names the file, line and field. */
public class DataFormatException extends RuntimeException {

    public DataFormatException(Path file, long line, String message) {
        super(file + ":" + line + ": " + message);
    }

    public DataFormatException(Path file, String message) {
        super(file + ": " + message);
    }
}
