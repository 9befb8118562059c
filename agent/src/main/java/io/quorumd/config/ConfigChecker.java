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
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private ConfigChecker() {}

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

    /**
     * @param routeTable where to look for the default route (tests pass their own)
     * @return every problem found, in the order of the file's keys; empty when all is well
     */
    public static List<ConfigProblem> problems(LoadedConfig loaded, Path routeTable) {
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
                    String searchPath = cmd.env().getOrDefault("PATH", System.getenv().getOrDefault("PATH", DEFAULT_PATH));
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
        String stateDirProblem = writableDirectory(c.stateDir());
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
                    + " load a watchdog driver (e.g. modprobe softdog) or set mode: auto", dev.toString());
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
