package io.quorumd.config;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The config file cannot be used; the agent exits with status 2. {@link #getMessage()} is what
 * the operator reads: one line per problem, in file order, each in SPEC's
 * {@code FILE:LINE:COL: path.to.key: what is wrong (got X)} form, or the single line
 * {@code quorumd: cannot read FILE: reason} when the file could not be read at all.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient List<ConfigProblem> problems;

    public ConfigException(List<ConfigProblem> problems) {
        super(problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n")));
        if (problems.isEmpty()) throw new IllegalArgumentException("a ConfigException needs at least one problem");
        this.problems = List.copyOf(problems);
    }

    private ConfigException(String message) {
        super(message);
        this.problems = List.of();
    }

    /** The file is missing, unreadable or a directory. */
    public static ConfigException cannotRead(Path file, String reason) {
        return new ConfigException("quorumd: cannot read " + file + ": " + reason);
    }

    /** Every problem found, in file order; empty when the file could not be read at all. */
    public List<ConfigProblem> problems() {
        return problems;
    }
}
