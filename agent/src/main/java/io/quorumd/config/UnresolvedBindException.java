package io.quorumd.config;

/** {@code bind} names no address this host can bind; the message says why and what to set. */
public final class UnresolvedBindException extends Exception {
    private static final long serialVersionUID = 1L;

    public UnresolvedBindException(String message) {
        super(message);
    }
}
