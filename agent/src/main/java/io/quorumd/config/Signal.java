package io.quorumd.config;

import java.util.Locale;

/**
 * The signals an operator may choose as {@code command.stop_signal}, with their Linux numbers.
 * Names are upper case, as in SPEC and in {@code kill -l}; {@code SIG} is optional. Lower case
 * is refused with a hint rather than accepted, so that one spelling appears in every file and
 * every log line.
 */
public enum Signal {
    TERM(15), INT(2), HUP(1), QUIT(3), USR1(10), USR2(12), KILL(9);

    private final int number;

    Signal(int number) {
        this.number = number;
    }

    /** The Linux signal number, for {@code kill(2)}. */
    public int number() {
        return number;
    }

    /** {@code SIGTERM}, as logs and {@code kill -l} write it. */
    public String signalName() {
        return "SIG" + name();
    }

    /**
     * {@code TERM} or {@code SIGTERM} to {@link #TERM}.
     *
     * @throws IllegalArgumentException saying what is wrong (without the value)
     */
    public static Signal parse(String text) {
        String name = text.startsWith("SIG") ? text.substring(3) : text;
        for (Signal s : values()) {
            if (s.name().equals(name)) return s;
        }
        String upper = text.toUpperCase(Locale.ROOT);
        String upperName = upper.startsWith("SIG") ? upper.substring(3) : upper;
        for (Signal s : values()) {
            if (s.name().equals(upperName))
                throw new IllegalArgumentException("signal names are upper case: write " + upper);
        }
        throw new IllegalArgumentException(
                "unknown signal; use TERM, INT, HUP, QUIT, USR1, USR2 or KILL, with or without SIG");
    }
}
