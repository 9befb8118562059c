package io.quorumd.command;

/** Exit statuses as Java reports them: 128 + N means "killed by signal N". */
final class Exits {
    private Exits() {}

    static String describe(int code) {
        if (code > 128 && code < 128 + 65) {
            return "killed by signal " + (code - 128) + " (exit status " + code + ")";
        }
        return "exit status " + code;
    }
}
