package io.quorumd.control;

/** Text that is not the JSON expected; the message gives the position or the key. */
public final class JsonException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public JsonException(String message) {
        super(message);
    }
}
