package io.quorumd.config;

import io.quorumd.security.CurveKeys;
import io.quorumd.security.KeyFile;
import io.quorumd.security.KeyFileException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code quorumd check} refuses beyond the file's syntax: settings that are well formed but
 * would fail at run time on this host. It touches the host only as the agent would: it resolves
 * {@code bind} (an IP literal by binding a throwaway socket to it), reads the CURVE key file,
 * looks at executables, and creates {@code state_dir} (and writes and deletes a scratch file in
 * it) when it is missing. Its messages name files and public keys, never a secret key.
 */
public final class ConfigChecker {
    /** The search path when neither {@code command.env} nor the environment sets one. */
    static final String DEFAULT_SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** The user the packaged unit runs as ({@code User=quorumd}). */
    public static final String UNIT_USER = "quorumd";
    /** The unit's {@code StateDirectory=quorumd}: systemd creates it and gives it to the unit's user at start. */
    public static final Path UNIT_STATE_DIRECTORY = Path.of("/var/lib/quorumd");

    private ConfigChecker() {}

    /**
     * For whom {@code state_dir} is judged, and whether the check may create it.
     *
     * @param user   the user the agent will run as, or null: this process's user
     * @param uid    that user's uid (with {@code gid} its primary group); -1 with a null user
     * @param create create a missing state_dir and write a scratch file in it ({@code run}), or
     *               touch nothing and judge by permissions ({@code check})
     */
    public record Judge(String user, int uid, int gid, boolean create) {
        /** {@code quorumd run}: as this process, creating state_dir. */
        public static final Judge RUN = new Judge(null, -1, -1, true);
        /** {@code quorumd check} as the caller: creates nothing. */
        public static final Judge CALLER = new Judge(null, -1, -1, false);

        /**
         * What {@code quorumd check} judges as: run as root on the packaged config while the unit's user
         * exists, that user (the agent will run as it, not as root); else the caller. Creates nothing.
         *
         * @param passwd the user database, {@code /etc/passwd}
         */
        public static Judge forCheck(Path configFile, int callerUid, Path packagedConfig, String unitUser, Path passwd) {
            if (callerUid != 0 || !configFile.toAbsolutePath().normalize().equals(packagedConfig)) return CALLER;
            int[] ids = lookUpUser(unitUser, passwd);
            return ids == null ? CALLER : new Judge(unitUser, ids[0], ids[1], false);
        }

        String who() {
            return user == null ? "this user" : "user " + user;
        }
    }

    /** {@code [uid, gid]} of {@code name} in a passwd file, or null. */
    static int[] lookUpUser(String name, Path passwd) {
        try {
            for (String line : Files.readAllLines(passwd)) {
                String[] f = line.split(":", -1);
                if (f.length >= 4 && f[0].equals(name)) return new int[] {Integer.parseInt(f[2]), Integer.parseInt(f[3])};
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
    }

    /**
     * The problems as the operator reads them, one line each. A config from
     * {@link ConfigLoader#load} has no positions: lines then read {@code FILE: key: ...}; use
     * {@link #check(LoadedConfig)} with {@link ConfigLoader#loadWithPositions} for {@code FILE:LINE:COL}.
     */
    public static List<String> check(Config config) {
        return check(new LoadedConfig(config, Positions.NONE));
    }

    /** The problems as the operator reads them, one {@code FILE:LINE:COL: key: ...} line each. */
    public static List<String> check(LoadedConfig loaded) {
        return problems(loaded).stream().map(ConfigProblem::toString).toList();
    }

    public static List<ConfigProblem> problems(LoadedConfig loaded) {
        return problems(loaded, BindResolver.ROUTE_TABLE);
    }

    public static List<ConfigProblem> problems(LoadedConfig loaded, Path routeTable) {
        return problems(loaded, routeTable, Judge.RUN);
    }

    /**
     * @param routeTable where to look for the default route (tests pass their own)
     * @param judge      for whom state_dir is judged, and whether it may be created
     * @return every problem found, in the order of the file's keys; empty when all is well
     */
    public static List<ConfigProblem> problems(LoadedConfig loaded, Path routeTable, Judge judge) {
        Config c = loaded.config();
        Positions at = loaded.positions();
        List<ConfigProblem> problems = new ArrayList<>();
        Reporter report = (key, what, got) -> problems.add(new ConfigProblem(c.source(), at.at(key), key, what, got));

        try {
            BindResolver.resolve(c.bind(), routeTable);
        } catch (UnresolvedBindException e) {
            report.add("bind", e.getMessage(), c.bind());
        }
        if (c.security() != null) curveKey(report, c);
        if (c.command() != null) {
            CommandConfig cmd = c.command();
            if (!cmd.shell()) {
                String program = cmd.argv().get(0);
                if (program.contains("/")) {
                    executable(report, "command.exec[0]", Path.of(program), program);
                } else {
                    String searchPath = cmd.env().getOrDefault("PATH", System.getenv().getOrDefault("PATH", DEFAULT_SEARCH_PATH));
                    Path found = lookUp(program, searchPath);
                    if (found == null)
                        report.add("command.exec[0]", "not found in PATH (" + searchPath
                                + "); write the absolute path or install it", program);
                    else
                        executable(report, "command.exec[0]", found, program);
                }
            }
            if (cmd.workdir() != null && !Files.isDirectory(cmd.workdir())) {
                report.add("command.workdir", Files.exists(cmd.workdir()) ? "is not a directory"
                        : "does not exist; create it or remove workdir", cmd.workdir().toString());
            }
        }
        if (c.hooks() != null) {
            HooksConfig h = c.hooks();
            if (h.onMaster() != null) executable(report, "hooks.on_master", h.onMaster(), h.onMaster().toString());
            if (h.onFollower() != null) executable(report, "hooks.on_follower", h.onFollower(), h.onFollower().toString());
            if (h.fence() != null) executable(report, "hooks.fence", h.fence(), h.fence().toString());
        }
        String stateDirProblem = judge.create() ? writableDirectory(c.stateDir()) : judgeDirectory(c.stateDir(), judge);
        if (stateDirProblem != null) report.add("state_dir", stateDirProblem, c.stateDir().toString());
        String socketProblem = socketDirectory(c.controlSocket());
        if (socketProblem != null) report.add("control_socket", socketProblem, c.controlSocket().toString());
        if (c.metrics() != null) {
            String m = localAddress(c.metrics().host());
            if (m != null) report.add("metrics.listen", m, c.metrics().listen());
        }
        if (c.selfFence().mode() == SelfFenceConfig.Mode.REQUIRED) {
            Path dev = c.selfFence().device();
            if (!Files.exists(dev)) report.add("self_fence.device", "does not exist, and self_fence.mode is required:"
                    + " this node would never campaign; load a watchdog driver (e.g. modprobe softdog) or set mode: auto",
                    dev.toString());
            else if (Files.isDirectory(dev)) report.add("self_fence.device", "is a directory, not a watchdog device",
                    dev.toString());
            else if (!Files.isWritable(dev)) report.add("self_fence.device", "is not writable by this user,"
                    + " and self_fence.mode is required", dev.toString());
        }
        return List.copyOf(problems);
    }

    /** Null when {@code host} is an address of this host (a throwaway socket binds to it, port 0). */
    private static String localAddress(String host) {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName(host), 0));
            return null;
        } catch (IOException e) {
            return "cannot listen on " + host + " (" + e.getMessage() + "): give an address of this host";
        }
    }

    @FunctionalInterface
    private interface Reporter {
        void add(String key, String what, String got);
    }

    /**
     * {@code security.curve.key}: readable by this user only, a key pair in the certificate format,
     * and the one whose public key the peers have for this node. Only file names and public keys
     * appear in the messages, never the secret key.
     */
    private static void curveKey(Reporter report, Config c) {
        Path file = c.security().curveKey();
        CurveKeys keys;
        try {
            keys = KeyFile.readSecret(file);
        } catch (KeyFileException e) {
            report.add("security.curve.key", e.getMessage(), file.toString());
            return;
        }
        for (int i = 0; i < c.peers().size(); i++) {
            PeerConfig p = c.peers().get(i);
            if (!p.id().equals(c.node()) || p.publicKey() == null) continue;
            if (!p.publicKey().equals(keys.publicKeyZ85())) {
                report.add("security.curve.key", "holds the public key " + keys.publicKeyZ85() + ", not this node's"
                        + " peers[" + i + "].public_key " + p.publicKey() + "; the peers would refuse this node:"
                        + " name the right key file, or put its public key in the peer list of every node",
                        file.toString());
            }
        }
    }

    /** The first executable {@code name} in {@code searchPath}, as execvp would find it. */
    static Path lookUp(String name, String searchPath) {
        for (String dir : searchPath.split(":", -1)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir).resolve(name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) return candidate.toAbsolutePath();
        }
        for (String dir : searchPath.split(":", -1)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir).resolve(name);
            if (Files.exists(candidate)) return candidate.toAbsolutePath();   // found, but not runnable: say why
        }
        return null;
    }

    private static void executable(Reporter report, String key, Path file, String written) {
        String via = written.equals(file.toString()) ? "" : file + " ";
        if (!Files.exists(file)) {
            report.add(key, via + "does not exist", written);
        } else if (Files.isDirectory(file)) {
            report.add(key, via + "is a directory, not an executable file", written);
        } else if (!Files.isRegularFile(file)) {
            report.add(key, via + "is not a regular file", written);
        } else if (!Files.isExecutable(file)) {
            report.add(key, via + "is not executable; chmod +x it", written);
        }
    }

    /** Null when {@code dir} exists (or could be created) and takes a new file. */
    private static String writableDirectory(Path dir) {
        Path blocker = nonDirectoryAncestor(dir);
        if (blocker != null) {
            return blocker.equals(dir) ? "is not a directory"
                    : "cannot be created: " + blocker + " is not a directory";
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            return "cannot be created: " + reason(e);
        }
        try {
            Path probe = Files.createTempFile(dir, ".quorumd-check-", ".tmp");
            try {
                Files.write(probe, new byte[] {'q'});
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException e) {
            return "cannot be written: " + reason(e) + "; the agent keeps its term and vote there";
        }
        return null;
    }

    /**
     * Null when {@code judge}'s user could create {@code dir} or write in it; creates nothing. As
     * another user, asks the kernel as that user ({@code setpriv ... test -w}), so that ACLs and
     * supplementary groups count as they will for the agent. The unit's own StateDirectory is
     * created and given to the unit's user by systemd at start, whoever owns it now.
     */
    public static String judgeDirectory(Path dir, Judge judge) {
        Path blocker = nonDirectoryAncestor(dir);
        if (blocker != null) {
            return blocker.equals(dir) ? "is not a directory"
                    : "cannot be created: " + blocker + " is not a directory";
        }
        Path abs = dir.toAbsolutePath().normalize();
        if (judge.user() != null && abs.equals(UNIT_STATE_DIRECTORY)) return null;
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) return "cannot be created: no ancestor exists";
        boolean missing = !existing.equals(abs);
        String access = writableBy(existing, judge);
        if (access == null) return null;
        String tail = judge.user() != null ? " (" + judge.user() + " is the user the unit runs the agent as)" : "";
        return missing ? "cannot be created by " + judge.who() + ": " + existing + " " + access + tail
                : "cannot be written by " + judge.who() + ": " + access + tail + "; the agent keeps its term and vote there";
    }

    /** Null when {@code dir} is writable and searchable by the judge's user; else why not. */
    private static String writableBy(Path dir, Judge judge) {
        if (judge.user() == null) {
            return Files.isWritable(dir) && Files.isExecutable(dir) ? null : "is not writable and searchable (" + mode(dir) + ")";
        }
        Path setpriv = lookUp("setpriv", DEFAULT_SEARCH_PATH);
        Path test = lookUp("test", DEFAULT_SEARCH_PATH);
        if (setpriv == null || test == null) return "cannot be judged: setpriv or test is missing (install util-linux and coreutils)";
        try {
            Process p = new ProcessBuilder(setpriv.toString(), "--reuid=" + judge.uid(), "--regid=" + judge.gid(), "--init-groups",
                    "--", test.toString(), "-w", dir.toString(), "-a", "-x", dir.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "cannot be judged: setpriv did not answer";
            }
            return switch (p.exitValue()) {
                case 0 -> null;
                case 1 -> "is not writable and searchable by " + judge.user() + " (" + mode(dir) + ")";
                default -> "cannot be judged: setpriv --reuid=" + judge.uid() + " failed (exit " + p.exitValue() + ")";
            };
        } catch (IOException e) {
            return "cannot be judged: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "cannot be judged: interrupted";
        }
    }

    /** {@code owner root:root, mode 0755}, for the messages. */
    private static String mode(Path p) {
        try {
            java.nio.file.attribute.PosixFileAttributes a = Files.readAttributes(p, java.nio.file.attribute.PosixFileAttributes.class);
            return "owner " + a.owner().getName() + ":" + a.group().getName() + ", mode "
                    + java.nio.file.attribute.PosixFilePermissions.toString(a.permissions());
        } catch (IOException | UnsupportedOperationException e) {
            return "mode unknown";
        }
    }

    private static String socketDirectory(Path socket) {
        Path parent = socket.getParent();
        if (parent == null) return "must be a path in a directory";
        Path blocker = nonDirectoryAncestor(parent);
        if (blocker != null) return "its directory cannot be created: " + blocker + " is not a directory";
        return null;
    }

    /** The nearest existing ancestor of {@code path} (itself included) when it is not a directory. */
    private static Path nonDirectoryAncestor(Path path) {
        for (Path p = path.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p)) return Files.isDirectory(p) ? null : p;
        }
        return null;
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return ((AccessDeniedException) e).getFile() + ": permission denied";
        if (e instanceof NoSuchFileException) return ((NoSuchFileException) e).getFile() + ": no such file or directory";
        if (e instanceof FileSystemException) {
            FileSystemException f = (FileSystemException) e;
            String r = f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
            return (f.getFile() != null ? f.getFile() + ": " : "") + Character.toLowerCase(r.charAt(0)) + r.substring(1);
        }
        return e.toString();
    }
}
