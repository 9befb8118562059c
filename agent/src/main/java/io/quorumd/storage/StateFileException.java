package io.quorumd.storage;

/**
 * The state file exists but cannot be trusted (corrupt, truncated, unreadable, from a newer
 * version), or the state directory is in use by another agent. The message is written for the
 * operator: it names the file and says what to do. The agent must not start: resetting the term
 * and vote silently could let this node vote twice in one term.
 */
public final class StateFileException extends Exception {
    private static final long serialVersionUID = 1L;

    public StateFileException(String message) {
        super(message);
    }

    public StateFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
