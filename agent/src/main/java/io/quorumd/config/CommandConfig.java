package io.quorumd.config;

import io.quorumd.command.RestartPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The managed command ({@code command} section).
 *
 * @param argv          the program and its arguments; for a string {@code exec} (shell form) it is
 *                      {@code [/bin/sh, -c, string]}
 * @param shell         {@code exec} was written as a string, to be run by {@code /bin/sh -c}
 * @param workdir       working directory, or null for / (not the agent's own)
 * @param env           extra environment, in file order, on top of the agent's and the
 *                      {@code QUORUMD_*} variables
 * @param stopTimeout   from {@code stopSignal} to SIGKILL of the whole group; zero means SIGKILL at once
 * @param maxRestarts   restarts allowed within {@code restartWindow}; past it the master steps down
 */
public record CommandConfig(List<String> argv, boolean shell, Path workdir, Map<String, String> env,
                            Signal stopSignal, Duration stopTimeout, RestartPolicy restart,
                            int maxRestarts, Duration restartWindow) {
    public static final Signal DEFAULT_STOP_SIGNAL = Signal.TERM;
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(5);
    public static final RestartPolicy DEFAULT_RESTART = RestartPolicy.ON_FAILURE;
    public static final int DEFAULT_MAX_RESTARTS = 5;
    public static final Duration DEFAULT_RESTART_WINDOW = Duration.ofSeconds(60);
    public static final String SHELL = "/bin/sh";

    public CommandConfig {
        argv = List.copyOf(argv);
        if (argv.isEmpty()) throw new IllegalArgumentException("command argv must not be empty");
        if (shell && (argv.size() != 3 || !argv.get(0).equals(SHELL) || !argv.get(1).equals("-c")))
            throw new IllegalArgumentException("a shell-form command is [/bin/sh, -c, script], got " + argv);
        env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
        Objects.requireNonNull(stopSignal, "stopSignal");
        Objects.requireNonNull(stopTimeout, "stopTimeout");
        Objects.requireNonNull(restart, "restart");
        Objects.requireNonNull(restartWindow, "restartWindow");
    }

    /** A command run as {@code argv} with every other setting at its default. */
    public static CommandConfig of(List<String> argv) {
        return new CommandConfig(argv, false, null, Map.of(), DEFAULT_STOP_SIGNAL, DEFAULT_STOP_TIMEOUT,
                DEFAULT_RESTART, DEFAULT_MAX_RESTARTS, DEFAULT_RESTART_WINDOW);
    }

    /** A string run by {@code /bin/sh -c} with every other setting at its default. */
    public static CommandConfig shell(String script) {
        return new CommandConfig(List.of(SHELL, "-c", script), true, null, Map.of(), DEFAULT_STOP_SIGNAL,
                DEFAULT_STOP_TIMEOUT, DEFAULT_RESTART, DEFAULT_MAX_RESTARTS, DEFAULT_RESTART_WINDOW);
    }

    /** The shell script of a shell-form command. */
    public String script() {
        if (!shell) throw new IllegalStateException("not a shell-form command: " + argv);
        return argv.get(2);
    }
}
