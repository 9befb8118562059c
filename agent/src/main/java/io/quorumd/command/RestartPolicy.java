package io.quorumd.command;

/**
 * When an unplanned end of the command is followed by a new start (with back-off): the
 * {@link Supervisor}'s rule, bound from {@code command.restart} in the config file.
 */
public enum RestartPolicy {
    /** The command ran once; when it exits the master stays master with nothing running. */
    NEVER("never"),
    /** Restart after a non-zero exit or a death by signal, with back-off. */
    ON_FAILURE("on-failure"),
    /** Restart after any exit, with back-off. */
    ALWAYS("always");

    private final String yamlName;

    RestartPolicy(String yamlName) {
        this.yamlName = yamlName;
    }

    /** As written in the config file: {@code on-failure}. */
    public String yamlName() {
        return yamlName;
    }

    /**
     * The config file's spelling, exactly: {@code never}, {@code on-failure} or {@code always}.
     *
     * @throws IllegalArgumentException saying what is wrong (without the value)
     */
    public static RestartPolicy parse(String text) {
        for (RestartPolicy p : values()) {
            if (p.yamlName.equals(text)) return p;
        }
        throw new IllegalArgumentException("must be never, on-failure or always");
    }
}
