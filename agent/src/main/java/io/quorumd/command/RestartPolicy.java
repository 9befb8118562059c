package io.quorumd.command;

import java.util.Locale;

/** When an unplanned end of the command is followed by a new start (with back-off). */
public enum RestartPolicy {
    NEVER, ON_FAILURE, ALWAYS;

    /** The config's spelling: {@code never}, {@code on-failure}, {@code always}. */
    public static RestartPolicy parse(String text) {
        switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "never": return NEVER;
            case "on-failure": return ON_FAILURE;
            case "always": return ALWAYS;
            default:
                throw new IllegalArgumentException("unknown restart policy '" + text
                        + "': use never, on-failure or always");
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
