package io.quorumd.it.local;

import io.quorumd.control.ControlClient;
import io.quorumd.it.CommandObserver;
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
    static Duration liveness(long electionTimeoutMillis, long stopTimeoutMillis) {
        return Duration.ofMillis(2 * electionTimeoutMillis + Math.round(stopTimeoutMillis * 1.02) + 2000);
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
    /**
     * The README's socat example, read from the README and run as written (the socket path and
     * node id replaced by this agent's) against a real one-node agent: its answer is the README's
     * line. Then the status op through the same raw protocol names this node master.
     */
    @Test
    void theReadmesSocatExampleTalksToARealAgent() throws Exception {
        String socat = tool("socat", "the README's control socket example");
        List<String> readme = Files.readAllLines(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        int at = -1;
        // the first example (leader): the later ones (kv.put, kv.get, kv.watch) depend on the store's history
        for (int i = 0; i < readme.size() && at < 0; i++) if (readme.get(i).startsWith("$ printf") && readme.get(i).contains("socat")) at = i;
        assertTrue(at > 0, "the README shows a socat line starting with '$ printf'");
        String command = readme.get(at).substring(2);
        String expected = readme.get(at + 1);
        Path dir = Files.createDirectories(tmp.resolve("socat"));
        Path socket = dir.resolve("control.sock");
        int port = io.quorumd.cli.FreePorts.pair(List.of());
        Path config = dir.resolve("quorumd.yaml");
        Files.writeString(config, "cluster: socat\nnode: node-a\nbind: 127.0.0.1\npeers:\n  - {id: node-a, host: 127.0.0.1, port: " + port
                + "}\ntiming: " + FAST + "\nstate_dir: " + Files.createDirectories(dir.resolve("state")) + "\ncontrol_socket: " + socket + "\n");
        Process agent = new ProcessBuilder(LocalCluster.LAUNCHER.toAbsolutePath().toString(), "run", "-c", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile()).start();
        try {
            LocalCluster.await(() -> "master".equals(role(socket)), Duration.ofSeconds(60), "the agent to be master");
            String run = command.replace("socat ", socat + " ").replace("/run/quorumd/control.sock", socket.toString());
            assertEquals(expected, sh(run), "the README's line: " + command);
            @SuppressWarnings("unchecked")
            Map<String, Object> st = (Map<String, Object>) Json.parse(sh(run.replace("{\"op\":\"leader\",\"id\":1}", "{\"op\":\"status\"}")));
            assertEquals(0L, st.get("exit"), st.toString());
            @SuppressWarnings("unchecked")
            Map<String, Object> status = (Map<String, Object>) st.get("result");
            assertEquals("master", status.get("role"), st.toString());
            assertEquals("node-a", status.get("master"), st.toString());
            System.out.printf("[socat] %s -> %s%n", command, expected);
        } finally {
            agent.toHandle().destroy();
            if (!agent.waitFor(30, TimeUnit.SECONDS)) agent.destroyForcibly();
        }
    }

    private static String sh(String command) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), command);
        assertEquals(0, p.exitValue(), command + ": " + out);
        return out;
    }

    /** The path of {@code name}, installed with apt-get if missing; fails under CI=true, else skips, if it cannot be had. */
    static String tool(String name, String forWhat) throws Exception {
        for (String d : new String[] {"/usr/bin/", "/bin/", "/usr/local/bin/"})
            if (Files.isExecutable(Path.of(d + name))) return d + name;
        try {
            new ProcessBuilder("apt-get", "install", "-y", "-q", name).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(300, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no apt-get
        }
        if (Files.isExecutable(Path.of("/usr/bin/" + name))) return "/usr/bin/" + name;
        String msg = name + " is not installed and `apt-get install " + name + "` did not install it: " + forWhat
                + " cannot be run here";
        if ("true".equals(System.getenv("CI"))) fail(msg);
        assumeTrue(false, msg);
        return null;
    }

    static String strace() throws Exception {
        return tool("strace", "the state file's fsync order");
    }


    // ---------------------------------------------------------------------------------------
    // Priority decides elections, and only elections
    // ---------------------------------------------------------------------------------------

    /**
     * Three agents with priorities n1 300, n2 200, n3 100. Three times the master is killed (kill
     * -9) and must be followed by the survivor with the higher priority; the victim then comes
     * back, and when it has the higher priority it must not depose the master it finds (observed
     * for two election timeouts: no new term, it stays follower). When a master's agent is gone its
     * followers all end their stickiness at the refused connection and campaign after rank ×
     * heartbeat/n (Node.yieldStickiness): heartbeat 500 ms makes that lead 166 ms, above the
     * pre-vote's round trip on a loaded machine (with 300 ms on 5 nodes, a lead of 60 ms, the
     * lower-priority node won 1 run in 4 here).
     */
    @Test
    void priorityDecidesTheNextElectionButDoesNotDeposeAHealthyMaster() throws Exception {
        Map<String, Integer> prio = Map.of("n1", 300, "n2", 200, "n3", 100);
        int[] n = {0};
        rebuild = () -> new LocalCluster(tmp.resolve("prio" + n[0]++), 3, new LocalCluster.Options()
                .timing("{heartbeat: 500ms, election_timeout: 1500ms}").priorities(prio));
        cluster = rebuild.call();
        Duration bound = liveness(1500, 1000);
        startAllAnswering();
        String master = cluster.awaitMasterRunning(START, null);
        int checked = 0;
        for (int round = 1; round <= 3; round++) {
            String victim = master;
            String expected = cluster.members.keySet().stream().filter(id -> !id.equals(victim))
                    .max((a, b) -> prio.get(a) - prio.get(b)).orElseThrow();
            // Raft's up-to-date rule comes before priority: a survivor that has not yet got the
            // master's latest entry (this term's no-op, right after an election or a rejoin) is
            // refused by the one that has it, whatever its priority
            long synced = cluster.awaitLogsInSync(START);
            long t0 = System.nanoTime();
            cluster.kill9(victim);
            String next = cluster.awaitMasterRunning(bound, victim);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(expected, next, "round " + round + ": after kill -9 of " + victim + " the survivor with the higher"
                    + " priority wins (" + prio + ")\n" + cluster.describe());
            System.out.printf("[priority] round %d: logs in sync at index %d, kill -9 of %s, %s (priority %d) runs the"
                    + " command after %d ms%n", round, synced, victim, next, prio.get(next), ms);
            master = next;
            String m = next;
            cluster.start(victim);
            try {
                LocalCluster.await(() -> {
                    Map<String, Object> st = cluster.status(victim);
                    return "follower".equals(LocalCluster.role(st)) && m.equals(st.get("master"));
                }, START, victim + " to rejoin as follower of " + m);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n" + cluster.describe(), e);
            }
            if (prio.get(victim) < prio.get(m)) continue;
            // back with the higher priority: no deposition (it would take a new term), no campaign
            checked++;
            long term = LocalCluster.term(cluster.status(m));
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * 1500);
            while (System.nanoTime() < until) {
                Map<String, Object> mine = cluster.status(victim);
                assertEquals("follower", LocalCluster.role(mine), victim + " (priority " + prio.get(victim) + ") under " + m
                        + ": " + mine + "\n" + cluster.describe());
                Map<String, Object> st = cluster.status(m);
                assertEquals("master", LocalCluster.role(st), m + " deposed after " + victim + " came back\n" + cluster.describe());
                assertEquals(term, LocalCluster.term(st), "the term moved: " + st);
                Thread.sleep(50);
            }
            System.out.printf("[priority] %s (priority %d) back as follower of %s (priority %d) for 3 s, term %d unchanged%n",
                    victim, prio.get(victim), m, prio.get(m), term);
        }
        assertTrue(checked >= 1, "a higher-priority node came back under a lower-priority master at least once");
    }

    // ---------------------------------------------------------------------------------------
    // Preemption: timing.preempt_delay
    // ---------------------------------------------------------------------------------------

    /**
     * {@code timing.preempt_delay: 3s} on three agents, n3 (priority 300) started last, once n1 or
     * n2 (priority 100) runs the command: n3 becomes master by the step-down's hand-over (cleared by
     * {@code handover} from the old master, in the next term), never sooner than the delay after
     * it was started, and within the delay plus SPEC's liveness bound and slack for JVM start-up;
     * it then stays master (the old, lower-priority master never asks back) for two more delays
     * with its term unchanged. The observer of {@link LocalCluster} fails the test on any overlap of
     * the command groups.
     */
    @Test
    void aHigherPriorityNodeStartedLastTakesOverByHandOverAfterPreemptDelay() throws Exception {
        long delayMs = 3000;
        Map<String, Integer> prio = Map.of("n1", 100, "n2", 100, "n3", 300);
        cluster = new LocalCluster(tmp.resolve("preempt"), 3, new LocalCluster.Options()
                .timing("{heartbeat: 100ms, election_timeout: 1000ms, preempt_delay: " + delayMs + "ms}").priorities(prio));
        cluster.start("n1");
        cluster.start("n2");
        String old = cluster.awaitMasterRunning(START, null);
        assertNotEquals("n3", old);
        long oldTerm = LocalCluster.term(cluster.status(old));
        long started = System.nanoTime();
        cluster.start("n3");
        String next = null;
        long deadline = started + START.toNanos() + TimeUnit.MILLISECONDS.toNanos(delayMs) + liveness(1000, 1000).toNanos();
        while (System.nanoTime() < deadline) {
            next = cluster.masterRunning();
            if ("n3".equals(next)) break;
            Thread.sleep(20);
        }
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertEquals("n3", next, "n3 (priority 300) master within " + (deadline - started) / 1_000_000 + " ms of its start\n"
                + cluster.describe() + "\n" + cluster.logs());
        assertTrue(tookMs >= delayMs, "n3 took over " + tookMs + " ms after its start, before preempt_delay\n" + cluster.logs());
        Map<String, Object> st = cluster.status("n3");
        assertEquals("handover", st.get("cleared_by"), st.toString());
        assertEquals(old, st.get("old_master"), st.toString());
        long term = LocalCluster.term(st);
        assertEquals(oldTerm + 1, term, "one hand-over, no election in between: " + st);
        assertTrue(read(cluster.log(old)).contains("preempted by n3 (priority 300 > 100)"), cluster.logs());
        System.out.printf("[preempt] n3 (priority 300) master %d ms after its start (preempt_delay %d ms), handed over by %s%n",
                tookMs, delayMs, old);
        // no flapping: for two more delays n3 stays master in the same term
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * delayMs);
        while (System.nanoTime() < until) {
            Map<String, Object> s = cluster.status("n3");
            assertEquals("master", LocalCluster.role(s), "n3 lost mastership: " + s + "\n" + cluster.describe());
            assertEquals(term, LocalCluster.term(s), "the term moved: " + s);
            Thread.sleep(100);
        }
    }

    // ---------------------------------------------------------------------------------------
    // restart_window: no campaign after giving up
    // ---------------------------------------------------------------------------------------

    /**
     * n1 has the highest priority, so it would campaign first. It becomes master, its command
     * fails more often than max_restarts allows, it gives up and hands over (to n2); n2 is then
     * killed. Within restart_window (8 s from the failure) n1 must not campaign: the other survivor wins although
     * n1 goes first by priority. Once the window is over n1 may be master again.
     */
    @Test
    void aNodeThatGaveUpDoesNotCampaignDuringRestartWindow() throws Exception {
        cluster = new LocalCluster(tmp.resolve("window"), 3, new LocalCluster.Options()
                .timing("{heartbeat: 300ms, election_timeout: 1000ms}").priorities(Map.of("n1", 300, "n2", 200, "n3", 100))
                .commandYaml("  restart: on-failure\n  max_restarts: 1\n  restart_window: 8s\n"));
        Duration bound = liveness(1000, 1000);
        cluster.startAll();
        String first = cluster.awaitMasterRunning(START, null);
        if (!first.equals("n1")) {
            // n1 has the highest priority: it wins the election after the master is killed (a
            // step-down --to could race the third node, see stepDownToHandsOverToTheNamedNode)
            cluster.kill9(first);
            LocalCluster.await(() -> "n1".equals(cluster.masterRunning()), bound, "n1 to take over from " + first);
            cluster.start(first);
            LocalCluster.await(() -> {
                Map<String, Object> st = cluster.status(first);
                return st != null && "n1".equals(st.get("master"));
            }, START, first + " to follow n1");
        }
        Files.createFile(cluster.dir.resolve("run/crash-n1"));
        long failedAt = System.nanoTime();   // the window runs from the give-up, which is later
        for (CommandObserver.Run run : cluster.observer.running()) {
            new ProcessBuilder("kill", "-KILL", "--", "-" + run.hostPid()).start().waitFor();
        }
        // killed, restarted once, crashed again: more than max_restarts (1); it steps down and hands over
        String m2 = cluster.awaitMasterRunning(bound, "n1");
        long handedAt = System.nanoTime();   // n1 gave up before this
        assertTrue(Files.readString(cluster.log("n1")).contains("failed too often"), "n1's log says why\n" + cluster.logs());
        String other = m2.equals("n2") ? "n3" : "n2";
        long t0 = System.nanoTime();
        cluster.kill9(m2);
        String next = cluster.awaitMasterRunning(bound, m2);
        long inWindowMillis = (System.nanoTime() - failedAt) / 1_000_000;
        assertTrue(inWindowMillis < 8000, "inconclusive: the election ended " + inWindowMillis + " ms after n1's failure, past its"
                + " restart_window (8 s)");
        assertEquals(other, next, "n1 gave up " + inWindowMillis + " ms ago and must not campaign for restart_window (8 s)\n"
                + cluster.describe());
        System.out.printf("[restart_window] %s master %d ms after kill -9 of %s; n1 (priority 300) gave up %d ms before%n",
                next, (System.nanoTime() - t0) / 1_000_000, m2, inWindowMillis);
        // after the window: n1 may be master again
        Files.delete(cluster.dir.resolve("run/crash-n1"));
        long windowOver = handedAt + TimeUnit.MILLISECONDS.toNanos(8000 + 500);
        LocalCluster.await(() -> System.nanoTime() > windowOver, Duration.ofSeconds(20), "n1's restart_window to pass");
        Run r = cli("step-down", "-c", cluster.member(next).config.toString(), "--to", "n1");
        assertEquals(0, r.code(), r.out());
        LocalCluster.await(() -> "n1".equals(cluster.masterRunning()), bound, "n1 to be master again after its window");
    }

    // ---------------------------------------------------------------------------------------
    // stop_signal other than TERM
    // ---------------------------------------------------------------------------------------

    /**
     * {@code stop_signal: HUP}: the command (the group's leader) and a child it started in the
     * background each trap HUP and TERM and record which came. A step-down stops the master's
     * command through the agent: both get HUP. A kill -9 of the next master's agent: the leader
     * gets HUP at once as its parent-death signal ({@code setpriv --pdeathsig HUP}), the child
     * from the watchdog. TERM is never sent.
     */
    @Test
    void stopSignalHupReachesTheCommandOnStepDownAndFromTheWatchdog() throws Exception {
        Path dir = tmp.resolve("sighup");
        Path signals = dir.resolve("run/signals");
        String rec = " >> " + signals + "; exit 0";
        cluster = new LocalCluster(dir, 3, new LocalCluster.Options().commandYaml("  stop_signal: HUP\n")
                .traps("( trap 'echo \"HUP child $QUORUMD_NODE $QUORUMD_TERM\"" + rec + "' HUP; "
                        + "trap 'echo \"TERM child $QUORUMD_NODE $QUORUMD_TERM\"" + rec + "' TERM; "
                        + "echo \"traps child $QUORUMD_NODE $QUORUMD_TERM\" >> " + signals + "; "
                        + "while true; do sleep 0.2 & wait $!; done ) &\n"
                        + "trap 'echo \"HUP leader $QUORUMD_NODE $QUORUMD_TERM\"" + rec + "' HUP\n"
                        + "trap 'echo \"TERM leader $QUORUMD_NODE $QUORUMD_TERM\"" + rec + "' TERM\n"
                        + "echo \"traps leader $QUORUMD_NODE $QUORUMD_TERM\" >> " + signals));
        Duration bound = liveness(1000, 1000);
        cluster.startAll();
        String m = cluster.awaitMasterRunning(START, null);
        long term = LocalCluster.term(cluster.status(m));
        // the command registers with the observer before its traps are set: a signal before them
        // would end it by bash's default and record nothing
        awaitTraps(signals, m, term);
        Reply r = ControlClient.call(cluster.member(m).socket, "step-down", Duration.ofSeconds(10));
        assertEquals(0, r.exitCode(), r.body());
        String m2 = cluster.awaitMasterRunning(bound, m);
        try {
            LocalCluster.await(() -> read(signals).contains("HUP leader " + m + " " + term + "\n")
                    && read(signals).contains("HUP child " + m + " " + term + "\n"), bound,
                    "the command of " + m + " and its child to record HUP on step-down");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; recorded:\n" + read(signals) + cluster.describe(), e);
        }
        long term2 = LocalCluster.term(cluster.status(m2));
        awaitTraps(signals, m2, term2);
        cluster.kill9(m2);
        LocalCluster.await(() -> read(signals).contains("HUP child " + m2 + " " + term2 + "\n")
                        && read(signals).contains("HUP leader " + m2 + " " + term2 + "\n"), bound,
                "the command of " + m2 + " (parent-death signal) and its child (watchdog) to record HUP; recorded: " + read(signals) + "\nits watchdog's log:\n"
                        + read(cluster.member(m2).stateDir.resolve("watchdog.log")));
        assertFalse(read(signals).contains("TERM"), "TERM was sent: " + read(signals));
        cluster.awaitMasterRunning(bound, m2);
        System.out.printf("[stop_signal HUP] recorded:%n%s", read(signals));
    }

    /** Until the command of {@code node} in {@code term} and its background child both set their traps. */
    private static void awaitTraps(Path signals, String node, long term) {
        LocalCluster.await(() -> read(signals).contains("traps leader " + node + " " + term + "\n")
                && read(signals).contains("traps child " + node + " " + term + "\n"), START,
                "the command of " + node + " in term " + term + " and its child to set their traps");
    }

    // ---------------------------------------------------------------------------------------
    // The fence hook as proof
    // ---------------------------------------------------------------------------------------

    /**
     * The master's agent is frozen (SIGSTOP) while its command ignores TERM, so only the watchdog's
     * SIGKILL after {@code stop_timeout} (6 s) would end it. Without proof the next master waits
     * the old lease plus stop_timeout, about 7 s. With a fence hook that kills the old master's
     * command group (found through what the command registered) and exits 0, the next master is
     * cleared by the fence as soon as the old lease has surely ended: it runs its command in
     * under 5 s, says {@code cleared_by: fence} about the frozen node and its term, the hook was
     * told both, and no two commands ever ran at once (the observer, in tearDown).
     */
    @Test
    void aSucceedingFenceHookIsProofAndSparesTheStopTimeout() throws Exception {
        FenceRun f = fenceRun("fence-ok", true);
        assertTrue(f.millis < 5000, "the next master ran its command " + f.millis + " ms after the freeze: without the"
                + " fence's proof it cannot be sooner than lease + stop_timeout (6,980 ms)\n" + f.hookLog);
        assertEquals("fence", f.status.get("cleared_by"), f.status.toString());
        assertEquals(f.old, f.status.get("old_master"), f.status.toString());
        assertEquals(f.oldTerm, ((Number) f.status.get("old_master_term")).longValue(), f.status.toString());
        assertTrue(f.hookLog.contains("fence old=" + f.old + " old_term=" + f.oldTerm + " killed"), f.hookLog);
        System.out.printf("[fence ok] frozen %s (term %d): %s runs the command %d ms later, cleared by fence%n%s",
                f.old, f.oldTerm, f.next, f.millis, f.hookLog);
    }

    /**
     * The same freeze with a fence hook that fails (exit 1, the old command left running): a failed
     * fence proves nothing, so the next master waits the old lease plus stop_timeout, and is cleared
     * by that wait.
     */
    @Test
    void aFailingFenceHookProvesNothingAndTheNextMasterWaits() throws Exception {
        FenceRun f = fenceRun("fence-fails", false);
        assertTrue(f.millis >= 6700, "the next master ran its command " + f.millis + " ms after the freeze, before"
                + " the old lease plus stop_timeout (6,980 ms) could have passed, with only a failed fence\n" + f.hookLog);
        assertEquals("lease_expiry", f.status.get("cleared_by"), f.status.toString());
        assertTrue(f.hookLog.contains("fence old=" + f.old + " old_term=" + f.oldTerm + " refused"), f.hookLog);
        System.out.printf("[fence fails] frozen %s (term %d): %s runs the command %d ms later, cleared by the wait%n",
                f.old, f.oldTerm, f.next, f.millis);
    }

    private record FenceRun(String old, long oldTerm, String next, long millis, Map<String, Object> status, String hookLog) {}

    private FenceRun fenceRun(String name, boolean succeed) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Path run = dir.resolve("run");
        Path hookLog = dir.resolve("fence.log");
        Path hook = dir.resolve("fence.sh");
        Files.writeString(hook, "#!/bin/bash\n"
                + "log=" + hookLog + "\n"
                // a live (not zombie) member of the group: the frozen agent cannot reap what it spawned
                + "alive() { local st; for s in /proc/[0-9]*/stat; do read -r -a st < \"$s\" 2>/dev/null || continue;"
                + " [ \"${st[4]}\" = \"$1\" ] && [ \"${st[2]}\" != Z ] && return 0; done; return 1; }\n"
                + (succeed
                ? "for f in " + run + "/cmd-$QUORUMD_OLD_MASTER-$QUORUMD_OLD_TERM-*; do\n"
                + "  [ -e \"$f\" ] || continue\n"
                + "  pgid=${f##*-}\n"
                + "  kill -KILL -- -$pgid 2>/dev/null\n"
                + "  for _ in $(seq 1 100); do alive $pgid || break; sleep 0.02; done\n"
                + "  alive $pgid && { echo \"fence old=$QUORUMD_OLD_MASTER old_term=$QUORUMD_OLD_TERM group $pgid survived\" >> $log; exit 1; }\n"
                + "done\n"
                + "echo \"fence old=$QUORUMD_OLD_MASTER old_term=$QUORUMD_OLD_TERM killed at $EPOCHREALTIME\" >> $log\n"
                + "exit 0\n"
                : "echo \"fence old=$QUORUMD_OLD_MASTER old_term=$QUORUMD_OLD_TERM refused at $EPOCHREALTIME\" >> $log\n"
                + "exit 1\n"));
        Files.setPosixFilePermissions(hook, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        cluster = new LocalCluster(dir, 3, new LocalCluster.Options().stopTimeout("6s").traps("trap '' TERM")
                .topYaml("hooks:\n  fence: " + hook + "\n  timeout: 5s\n"));
        cluster.startAll();
        String old = cluster.awaitMasterRunning(START, null);
        long oldTerm = LocalCluster.term(cluster.status(old));
        long frozen = System.nanoTime();
        cluster.pause(old);
        String[] next = new String[1];
        try {
            LocalCluster.await(() -> {
                for (CommandObserver.Run r : cluster.observer.running()) {
                    if (!r.node().equals(old)) {
                        next[0] = r.node();
                        return true;
                    }
                }
                return false;
            }, liveness(1000, 6000), "a command on a node other than the frozen " + old);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nfence hook's log:\n" + read(hookLog) + cluster.describe(), e);
        }
        CommandObserver.Run started = cluster.observer.runningOn(next[0]).orElseThrow();
        long millis = (started.startNanos() - frozen) / 1_000_000;
        Map<String, Object> status = cluster.status(next[0]);
        cluster.resume(old);
        return new FenceRun(old, oldTerm, next[0], millis, status, read(hookLog));
    }

    // ---------------------------------------------------------------------------------------
    // Hooks run by a real agent
    // ---------------------------------------------------------------------------------------

    /**
     * on_master and on_follower append what they were told (role, node, term, master) to a file
     * per node. The first master ran on_master for its term; after a step-down it ran on_follower
     * after that; the new master ran on_master for the newer term.
     */
    @Test
    void hooksRunOnARealAgentInTheOrderOfItsRoleChanges() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("hooks"));
        Path onMaster = hook(dir.resolve("on-master.sh"), "master", dir.resolve("run"));
        Path onFollower = hook(dir.resolve("on-follower.sh"), "follower", dir.resolve("run"));
        cluster = new LocalCluster(dir, 3, new LocalCluster.Options()
                .topYaml("hooks:\n  on_master: " + onMaster + "\n  on_follower: " + onFollower + "\n  timeout: 5s\n"));
        Duration bound = liveness(1000, 1000);
        cluster.startAll();
        String m = cluster.awaitMasterRunning(START, null);
        long term = LocalCluster.term(cluster.status(m));
        Path mine = dir.resolve("run/hooks-" + m);
        String masterLine = "hook=master role=master node=" + m + " term=" + term + " master=" + m;
        LocalCluster.await(() -> read(mine).contains(masterLine), bound, "on_master of " + m + ": " + read(mine));
        Reply r = ControlClient.call(cluster.member(m).socket, "step-down", Duration.ofSeconds(10));
        assertEquals(0, r.exitCode(), r.body());
        String m2 = cluster.awaitMasterRunning(bound, m);
        long term2 = LocalCluster.term(cluster.status(m2));
        Path theirs = dir.resolve("run/hooks-" + m2);
        LocalCluster.await(() -> read(theirs).contains("hook=master role=master node=" + m2 + " term=" + term2 + " master=" + m2),
                bound, "on_master of " + m2 + " for term " + term2 + ": " + read(theirs));
        LocalCluster.await(() -> lineAfter(read(mine), masterLine, "hook=follower role=follower node=" + m + " "), bound,
                "on_follower of " + m + " after its on_master: " + read(mine));
        System.out.printf("[hooks] %s:%n%s%s:%n%s", m, read(mine), m2, read(theirs));
    }

    private static Path hook(Path p, String kind, Path run) throws IOException {
        Files.writeString(p, "#!/bin/bash\necho \"hook=" + kind + " role=$QUORUMD_ROLE node=$QUORUMD_NODE term=$QUORUMD_TERM"
                + " master=$QUORUMD_MASTER\" >> " + run + "/hooks-$QUORUMD_NODE\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** A line starting with {@code later} comes after the line {@code first}. */
    private static boolean lineAfter(String text, String first, String later) {
        int i = text.indexOf(first + "\n");
        return i >= 0 && text.indexOf(later, i + first.length()) > 0;
    }

    // ---------------------------------------------------------------------------------------
    // quorumd step-down --to ID
    // ---------------------------------------------------------------------------------------

    /**
     * {@code quorumd step-down --to ID} through the launcher, four times, each time to the
     * follower a plain step-down would not choose (the hand-over goes by preference: equal
     * priorities, lowest id first): the named node is master next, cleared by the hand-over.
     * Under load the other follower used to campaign in the same term and split the votes for
     * seconds; it now leaves a hand-over's term to the named successor.
     */
    @Test
    void stepDownToHandsOverToTheNamedNode() throws Exception {
        cluster = new LocalCluster(tmp.resolve("to"), 3, new LocalCluster.Options());
        Duration bound = liveness(1000, 1000);
        cluster.startAll();
        String m = cluster.awaitMasterRunning(START, null);
        for (int round = 1; round <= 4; round++) {
            String from = m;
            String to = cluster.members.keySet().stream().filter(id -> !id.equals(from)).max(String::compareTo).orElseThrow();
            long t0 = System.nanoTime();
            Run r = cli("step-down", "-c", cluster.member(from).config.toString(), "--to", to);
            assertEquals(0, r.code(), r.out());
            LocalCluster.await(() -> to.equals(cluster.masterRunning()), bound, "round " + round + ": " + to
                    + " to be master after step-down --to " + to + " on " + from + "\n" + cluster.describe());
            Map<String, Object> st = cluster.status(to);
            assertEquals("handover", st.get("cleared_by"), st.toString());
            assertEquals(from, st.get("old_master"), st.toString());
            System.out.printf("[step-down --to] %s -> %s in %d ms%n", from, to, (System.nanoTime() - t0) / 1_000_000);
            m = to;
        }
    }

    // ---------------------------------------------------------------------------------------
    // quorumd demo --auto --duration
    // ---------------------------------------------------------------------------------------

    /**
     * {@code quorumd demo --auto --duration 10s} end to end: it exits 0 on its own, shows a master
     * and a fail-over, and leaves nothing behind. Every process it started (its descendants, seen
     * by polling /proc every 20 ms, with their start times and process groups) is gone afterwards:
     * no PID with the same start time is alive and no process group it used has a live member.
     */
    @Test
    void demoAutoForTenSecondsEndsOnItsOwnAndLeavesNoProcess() throws Exception {
        Path out = tmp.resolve("demo.out");
        Process demo = new ProcessBuilder(LocalCluster.LAUNCHER.toAbsolutePath().toString(), "demo", "--auto", "--duration", "10s")
                .redirectErrorStream(true).redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        Map<Long, String> seen = new HashMap<>();   // pid -> start time (field 22 of /proc/PID/stat)
        Set<Long> groups = new HashSet<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        try {
            while (demo.isAlive()) {
                if (System.nanoTime() > deadline) fail("demo --duration 10s still runs after 90 s\n" + read(out));
                demo.descendants().forEach(h -> {
                    String[] st = stat(h.pid());
                    if (st != null) {
                        seen.putIfAbsent(h.pid(), st[19]);
                        groups.add(Long.parseLong(st[2]));
                    }
                });
                Thread.sleep(20);
            }
        } finally {
            if (demo.isAlive()) {
                demo.descendants().forEach(ProcessHandle::destroyForcibly);
                demo.destroyForcibly();
            }
        }
        String text = read(out);
        assertEquals(0, demo.exitValue(), text);
        assertTrue(seen.size() >= 3, "the demo started its agents: " + seen.size() + " processes seen\n" + text);
        assertTrue(text.contains("demo over"), "it ended on its own, at the end of --duration\n" + text);
        // the agents it announced are among the processes this test tracked, so the check below covers them
        Matcher started = Pattern.compile("started (node-[abc]) \\(agent pid (\\d+)").matcher(text);
        int agents = 0;
        while (started.find()) {
            agents++;
            assertTrue(seen.containsKey(Long.parseLong(started.group(2))), "agent " + started.group(1) + " tracked\n" + text);
        }
        assertEquals(3, agents, text);
        groups.remove(ProcessHandle.current().pid());
        groups.remove(ownGroup());
        // the demo ended: what it started must be gone (a short grace for the kernel to reap)
        LocalCluster.await(() -> leftovers(seen, groups).isEmpty(), Duration.ofSeconds(5),
                "every process the demo started to be gone: " + leftovers(seen, groups));
        System.out.printf("[demo] exit 0; %d processes in %d groups seen, none left%n", seen.size(), groups.size());
    }

    private static long ownGroup() {
        String[] st = stat(ProcessHandle.current().pid());
        return st == null ? -1 : Long.parseLong(st[2]);
    }

    /** Processes seen during the demo and still alive (same PID and start time), and live members of its groups. */
    private static List<String> leftovers(Map<Long, String> seen, Set<Long> groups) {
        List<String> left = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path d : (Iterable<Path>) dirs::iterator) {
                String name = d.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                long pid = Long.parseLong(name);
                String[] st = stat(pid);
                if (st == null || st[0].equals("Z")) continue;
                if (st[19].equals(seen.get(pid))) left.add("pid " + pid + " (" + cmdline(pid) + ")");
                else if (groups.contains(Long.parseLong(st[2]))) left.add("pid " + pid + " in group " + st[2] + " (" + cmdline(pid) + ")");
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return left;
    }

    /** Fields of /proc/PID/stat after the command name: [0] state, [2] pgrp, [19] starttime; null if gone. */
    private static String[] stat(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return s.substring(s.lastIndexOf(") ") + 2).trim().split(" ");
        } catch (IOException e) {
            return null;
        }
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').trim();
        } catch (IOException e) {
            return "?";
        }
    }

    // ---------------------------------------------------------------------------------------

    /**
     * Starts every agent and waits until each answers. The free ports are chosen before the
     * agents bind them, and on a shared machine another program may take one in between: an agent
     * that could not bind is started again on a fresh cluster (at most twice), any other death fails.
     */
    private void startAllAnswering() throws Exception {
        for (int attempt = 1; ; attempt++) {
            cluster.startAll();
            LocalCluster c = cluster;
            LocalCluster.await(() -> c.members.keySet().stream().allMatch(id -> c.status(id) != null || !c.member(id).alive()),
                    START, "every agent to answer");
            String dead = c.members.keySet().stream().filter(id -> !c.member(id).alive()).findFirst().orElse(null);
            if (dead == null) return;
            String log = read(c.log(dead));
            if (attempt >= 3 || !log.contains("Address already in use")) fail(dead + " died at start:\n" + c.logs());
            System.out.printf("[start] %s could not bind (a port was taken meanwhile): a fresh cluster%n", dead);
            c.close();
            cluster = rebuild.call();
        }
    }

    private java.util.concurrent.Callable<LocalCluster> rebuild;

    record Run(int code, String out) {}

    /** The launcher with {@code args}; its exit status and output. */
    static Run cli(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(LocalCluster.LAUNCHER.toAbsolutePath().toString()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "quorumd " + String.join(" ", args) + " did not end");
        return new Run(p.exitValue(), out);
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    @SuppressWarnings("unchecked")
    private static String role(Path socket) {
        Reply r = ControlClient.call(socket, "status-json", Duration.ofMillis(500));
        if (r.exitCode() != 0) return null;
        return (String) ((Map<String, Object>) Json.parse(r.body())).get("role");
    }
}
