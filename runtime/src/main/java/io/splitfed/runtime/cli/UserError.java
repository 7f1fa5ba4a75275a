package io.splitfed.runtime.cli;

/** A mistake in what the user asked for; printed as one line, without a stack trace. */
public final class UserError extends RuntimeException {

    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
