package io.quorumd.security;

import java.nio.file.Path;

/**
 * A key file that cannot be used. The message says what is wrong with the file, as
 * {@code check} and the start-up error print it after the file's name; it never holds a key's
 * secret part nor a line of the file.
 */
public final class KeyFileException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public KeyFileException(Path file, String reason) {
        super(reason);
        this.file = file;
    }

    /** The file, as it was named. */
    public Path file() {
        return file;
    }
}
