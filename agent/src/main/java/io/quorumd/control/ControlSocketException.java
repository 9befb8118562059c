package io.quorumd.control;

/** The control socket cannot be set up (in use by another agent, not a socket, no permission). */
public final class ControlSocketException extends Exception {
    private static final long serialVersionUID = 1L;

    public ControlSocketException(String message) {
        super(message);
    }

    public ControlSocketException(String message, Throwable cause) {
        super(message, cause);
    }
}
