package io.quorumd.control;

/**
 * The answer to one control request: the exit status the CLI should end with and the text it should
 * print (on stdout when {@code exitCode} is 0, on stderr otherwise). Bodies end with a newline.
 */
public record Reply(int exitCode, String body) {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;
    /** Agent not reachable, or no master known. */
    public static final int UNAVAILABLE = 3;

    public Reply {
        if (exitCode < 0 || exitCode > 255) throw new IllegalArgumentException("exit status out of 0..255: " + exitCode);
        if (body == null) throw new IllegalArgumentException("body must not be null");
    }

    public static Reply ok(String body) {
        return new Reply(OK, withNewline(body));
    }

    public static Reply error(int exitCode, String message) {
        return new Reply(exitCode, withNewline(message));
    }

    private static String withNewline(String s) {
        return s.isEmpty() || s.endsWith("\n") ? s : s + "\n";
    }
}
