package io.quorumd.it.local;

import io.quorumd.control.ControlClient;
import io.quorumd.control.Json;
import io.quorumd.control.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * SPEC behaviours that only a real agent shows (issue 16), each on real agent processes with
 * real command groups and signals: the state file's fsync order (traced with strace), priority
 * deciding elections, no campaign during restart_window after giving up, a stop_signal other than
 * TERM, hooks, {@code step-down --to}, and {@code demo --auto --duration} leaving nothing behind.
 * Every wait polls with a deadline; the observer of {@link LocalCluster} fails the test if two
 * command groups were ever alive at once.
 */
@org.junit.jupiter.api.parallel.Isolated
class SpecProcessTest {
    /** JVM start-up under CURVE on 2 shared cores: patience for the first election only. */
    static final Duration START = Duration.ofSeconds(30);
    static final String FAST = "{heartbeat: 50ms, election_timeout: 300ms}";

    @TempDir
    Path tmp;
    LocalCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster == null) return;
        List<String> overlaps;
        try {
            cluster.close();
        } finally {
            overlaps = cluster.observer.overlaps();
        }
        assertTrue(overlaps.isEmpty(), "commands overlapped: " + overlaps + "\n" + cluster.logs());
    }

    /**
     * SPEC's liveness bound 2t + stop_timeout (1 + 2ρ) (ρ = 1 %, the default), plus 2 s of slack
     * for a loaded CI machine (2 shared cores, other JVMs).
     */
    static Duration liveness(long electionTimeoutMs, long stopTimeoutMs) {
        return Duration.ofMillis(2 * electionTimeoutMs + Math.round(stopTimeoutMs * 1.02) + 2000);
    }

    // ---------------------------------------------------------------------------------------
    // The state file: write, fsync, rename, fsync of the directory (traced)
    // ---------------------------------------------------------------------------------------

    /**
     * A real agent (a one-node cluster: it votes for itself and persists term and vote) under
     * {@code strace -f}: on the thread that renames {@code state.tmp} over {@code state}, the
     * temporary file was written and then fsynced before the rename, and the directory was
     * fsynced after it, before the next write of the state file begins.
     */
    @Test
    void theStateFileIsFsyncedBeforeItsRenameAndItsDirectoryAfter() throws Exception {
        String strace = strace();
        Path dir = Files.createDirectories(tmp.resolve("traced"));
        Path state = Files.createDirectories(dir.resolve("state")).toRealPath();
        Path socket = dir.resolve("control.sock");
        int port = io.quorumd.cli.FreePorts.pair(List.of());
        Path config = dir.resolve("quorumd.yaml");
        Files.writeString(config, "cluster: traced\nnode: n1\nbind: 127.0.0.1\npeers:\n  - {id: n1, host: 127.0.0.1, port: " + port
                + "}\ntiming: " + FAST + "\nstate_dir: " + state + "\ncontrol_socket: " + socket + "\nlog_level: debug\n");
        Path trace = dir.resolve("strace.out");
        Process p = new ProcessBuilder(strace, "-f", "-y", "-qq", "-e", "signal=none", "-o", trace.toString(),
                "-e", "trace=openat,write,fsync,fdatasync,rename,renameat,renameat2",
                LocalCluster.LAUNCHER.toAbsolutePath().toString(), "run", "-c", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile()).start();
        try {
            LocalCluster.await(() -> "master".equals(role(socket)), Duration.ofSeconds(60), "the traced agent to be master");
            // the JVM is strace's child (the launcher execs java): SIGTERM it, strace follows it out
            ProcessHandle jvm = p.toHandle().children().findFirst().orElseThrow(() -> new AssertionError("no traced JVM"));
            jvm.destroy();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "strace ends with the agent");
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        assertEquals(new io.quorumd.core.TermState(1, "n1"), new io.quorumd.storage.StateFile(state).load(),
                "the agent persisted term 1 and its vote for itself");

        // per thread, in order: the calls on the state file, its temporary file and its directory
        String tmpName = state.resolve("state.tmp").toString();
        String finalName = state.resolve("state").toString();
        Pattern entry = Pattern.compile("^(\\d+)\\s+(openat|write|fsync|fdatasync|rename|renameat|renameat2)\\((.*)$");
        Map<String, List<String[]>> byThread = new HashMap<>();
        for (String line : Files.readAllLines(trace, StandardCharsets.UTF_8)) {
            Matcher m = entry.matcher(line);
            if (!m.matches()) continue;
            String args = m.group(3);
            String kind = null;
            String call = m.group(2);
            if (call.startsWith("rename") && args.contains(tmpName + "\"") && args.contains(finalName + "\"")) kind = "rename";
            else if (call.equals("openat") && args.contains("\"" + tmpName + "\"")) kind = "open-tmp";
            else if (call.equals("write") && onFd(args, tmpName)) kind = "write-tmp";
            else if ((call.equals("fsync") || call.equals("fdatasync")) && onFd(args, tmpName)) kind = "fsync-tmp";
            else if ((call.equals("fsync") || call.equals("fdatasync")) && onFd(args, state.toString())) kind = "fsync-dir";
            if (kind != null) byThread.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(new String[] {kind, line});
        }
        int renames = 0;
        for (Map.Entry<String, List<String[]>> e : byThread.entrySet()) {
            List<String[]> calls = e.getValue();
            for (int i = 0; i < calls.size(); i++) {
                if (!calls.get(i)[0].equals("rename")) continue;
                renames++;
                // backwards to the open of this write: a write, then an fsync, then the rename
                int j = i - 1;
                boolean fsynced = false;
                boolean written = false;
                for (; j >= 0 && !calls.get(j)[0].equals("open-tmp"); j--) {
                    if (calls.get(j)[0].equals("fsync-tmp") && !written) fsynced = true;
                    if (calls.get(j)[0].equals("write-tmp") && fsynced) written = true;
                }
                String seq = describe(calls);
                assertTrue(j >= 0, "the rename has no open of state.tmp before it on its thread:\n" + seq);
                assertTrue(written && fsynced, "state.tmp written, then fsynced, then renamed (call " + i + "):\n" + seq);
                // forwards: the directory's fsync before this thread opens state.tmp again
                boolean dirSynced = false;
                for (int k = i + 1; k < calls.size() && !calls.get(k)[0].equals("open-tmp"); k++) {
                    if (calls.get(k)[0].equals("fsync-dir")) dirSynced = true;
                }
                assertTrue(dirSynced, "the directory " + state + " fsynced after the rename (call " + i + "):\n" + seq);
            }
        }
        assertTrue(renames >= 1, "no rename of state.tmp over state in the trace (" + trace + ")");
        System.out.printf("[strace] %d write(s) of the state file, each written, fsynced, renamed, directory fsynced%n", renames);
    }

    /** True if the call's first argument is a descriptor of {@code path} (strace -y prints it as FD<PATH>). */
    private static boolean onFd(String args, String path) {
        return args.matches("^\\d+<" + Pattern.quote(path) + ">.*");
    }

    private static String describe(List<String[]> calls) {
        StringBuilder sb = new StringBuilder();
        for (String[] c : calls) sb.append("  ").append(c[0]).append(": ").append(c[1]).append('\n');
        return sb.toString();
    }

    /** The strace binary: installed with apt-get if missing; skipped if it cannot be, failed under CI=true. */
    static String strace() throws Exception {
        for (String d : new String[] {"/usr/bin/strace", "/bin/strace", "/usr/local/bin/strace"})
            if (Files.isExecutable(Path.of(d))) return d;
        try {
            new ProcessBuilder("apt-get", "install", "-y", "-q", "strace").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(300, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no apt-get
        }
        if (Files.isExecutable(Path.of("/usr/bin/strace"))) return "/usr/bin/strace";
        String msg = "strace is not installed and `apt-get install strace` did not install it: the state file's fsync order"
                + " cannot be traced here";
        if ("true".equals(System.getenv("CI"))) fail(msg);
        assumeTrue(false, msg);
        return null;
    }

    @SuppressWarnings("unchecked")
    private static String role(Path socket) {
        Reply r = ControlClient.call(socket, "status-json", Duration.ofMillis(500));
        if (r.exitCode() != 0) return null;
        return (String) ((Map<String, Object>) Json.parse(r.body())).get("role");
    }
}
