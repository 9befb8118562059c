package io.quorumd.command;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every program the agent executes, found the way {@link Spawner} finds them at start, so that
 * {@code quorumd check} refuses a host where {@code quorumd run} would fail to start a command:
 * setpriv and setsid (every command and hook: {@code setpriv --pdeathsig SIGNAL -- setsid -- ...}),
 * sh (the wrapper script), bash (the watchdog script), mv (run by the wrapper by absolute path),
 * and the two scripts themselves.
 */
public final class Programs {
    /** Searched after PATH, as the agent does (systemd's PATH may lack the sbin directories). */
    static final List<String> STANDARD_DIRS = List.of("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin");

    /** Each program the agent runs from PATH, with the package that provides it and what it is for. */
    static final Map<String, String[]> REQUIRED = new LinkedHashMap<>();

    static {
        REQUIRED.put("setpriv", new String[] {"util-linux", "every command and hook starts through it"});
        REQUIRED.put("setsid", new String[] {"util-linux", "every command, hook and watchdog starts through it"});
        REQUIRED.put("sh", new String[] {"dash or bash", "it runs the wrapper script of every command"});
        REQUIRED.put("bash", new String[] {"bash", "it runs the watchdog that stops the command when the lease ends"});
    }

    /** The wrapper runs {@code mv} by absolute path: the first of these that is executable. */
    static final List<String> MV = List.of("/usr/bin/mv", "/bin/mv");

    private Programs() {}

    /** {@code name} in {@code path} (may be null), then in {@code standardDirs}: the first executable regular file. */
    static Path find(String name, String path, List<String> standardDirs) {
        List<String> dirs = new ArrayList<>();
        if (path != null) dirs.addAll(Arrays.asList(path.split(":")));
        dirs.addAll(standardDirs);
        for (String d : dirs) {
            if (d.isEmpty()) continue;
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        return null;
    }

    /** As the agent finds {@code name} at start; the exception names the package to install. */
    static Path require(String name) throws IOException {
        Path p = find(name, System.getenv("PATH"), STANDARD_DIRS);
        if (p == null) throw new IOException(notFound(name, REQUIRED.get(name)[0]));
        return p;
    }

    private static String notFound(String name, String pkg) {
        return name + " not found in PATH or " + String.join(", ", STANDARD_DIRS) + ": install " + pkg;
    }

    /**
     * What is missing on this host for the agent to run commands, one sentence each; empty when
     * nothing is. Looks in this process's PATH and the standard directories, as the agent does.
     */
    public static List<String> missing() {
        Path scripts;
        String scriptsProblem = null;
        try {
            scripts = Spawner.scriptsDir();
        } catch (IOException e) {
            scripts = null;
            scriptsProblem = e.getMessage();
        }
        List<String> l = missing(System.getenv("PATH"), STANDARD_DIRS, MV, scripts);
        if (scriptsProblem != null) {
            l = new ArrayList<>(l);
            l.add(scriptsProblem);
        }
        return l;
    }

    /** {@link #missing()} with every place given (tests). {@code scripts} null: not looked at. */
    static List<String> missing(String path, List<String> standardDirs, List<String> mv, Path scripts) {
        List<String> l = new ArrayList<>();
        for (Map.Entry<String, String[]> e : REQUIRED.entrySet()) {
            if (find(e.getKey(), path, standardDirs) == null)
                l.add(notFound(e.getKey(), e.getValue()[0]) + " (" + e.getValue()[1] + ")");
        }
        boolean mvFound = false;
        for (String m : mv) if (Files.isRegularFile(Path.of(m)) && Files.isExecutable(Path.of(m))) mvFound = true;
        if (!mvFound) l.add("mv not found at " + String.join(" or ", mv) + ": install coreutils (the wrapper of every command runs it)");
        if (scripts != null) {
            for (String s : List.of(Spawner.WRAPPER, Spawner.WATCHDOG)) {
                Path p = scripts.resolve(s);
                if (!Files.isRegularFile(p) || !Files.isReadable(p))
                    l.add(p + " is missing or unreadable: the agent's installation is incomplete (reinstall the package;"
                            + " in a checkout, build the agent: make build)");
            }
        }
        return l;
    }
}
