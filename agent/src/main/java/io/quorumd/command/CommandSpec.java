package io.quorumd.command;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How to run the managed command; the agent maps the config's {@code command:} section onto it.
 *
 * @param argv the program and its arguments, no shell; the config's string form arrives here as
 *     {@code [/bin/sh, -c, text]}
 * @param workdir working directory, or null for {@code /} (never the agent's own: under systemd
 *     that is the state directory)
 * @param env added to the environment (the {@code QUORUMD_*} variables win over these)
 * @param stopSignal signal number sent to the whole group first ({@link Signals#number})
 * @param stopTimeoutNanos then SIGKILL to the group; 0 sends SIGKILL at once
 * @param maxRestarts more unplanned ends than this within {@code restartWindowNanos}: give up
 */
public record CommandSpec(List<String> argv, Path workdir, Map<String, String> env, int stopSignal,
        long stopTimeoutNanos, RestartPolicy restart, int maxRestarts, long restartWindowNanos) {

    public CommandSpec {
        if (argv == null || argv.isEmpty() || argv.get(0).isEmpty()) {
            throw new IllegalArgumentException("command.exec: needs at least a program (got " + argv + ")");
        }
        argv = List.copyOf(argv);
        env = env == null ? Map.of() : Map.copyOf(new TreeMap<>(env));
        if (stopSignal < 1 || stopSignal > 64) {
            throw new IllegalArgumentException("command.stop_signal: not a signal number (got " + stopSignal + ")");
        }
        if (stopTimeoutNanos < 0) {
            throw new IllegalArgumentException("command.stop_timeout: must be 0 or more (got " + stopTimeoutNanos + " ns)");
        }
        if (restart == null) {
            throw new IllegalArgumentException("command.restart: missing (use never, on-failure or always)");
        }
        if (maxRestarts < 0) {
            throw new IllegalArgumentException("command.max_restarts: must be 0 or more (got " + maxRestarts + ")");
        }
        if (restartWindowNanos <= 0) {
            throw new IllegalArgumentException("command.restart_window: must be positive (got " + restartWindowNanos + " ns)");
        }
    }

    /** A short name for log lines: the program's file name, or the first word run by {@code sh -c}. */
    public String name() {
        String prog = argv.get(0);
        if (argv.size() >= 3 && argv.get(1).equals("-c") && prog.endsWith("sh")) {
            String script = argv.get(2).trim().replaceFirst("^exec\\s+", "").replaceFirst("^[^\\w/.-]+", "");
            int end = 0;
            while (end < script.length() && !Character.isWhitespace(script.charAt(end))
                    && ";&|()<>'\"".indexOf(script.charAt(end)) < 0) {
                end++;
            }
            prog = script.substring(0, end);
        }
        int slash = prog.lastIndexOf('/');
        String name = slash < 0 ? prog : prog.substring(slash + 1);
        return name.isEmpty() ? "command" : name;
    }
}
