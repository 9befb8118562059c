package io.quorumd.it.local;

import io.quorumd.it.CommandObserver;
import io.quorumd.control.ControlClient;
import io.quorumd.control.Json;
import io.quorumd.control.Reply;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Real quorumd agents (separate JVMs started through the launcher), each with a state directory,
 * a config and a managed command that registers itself with a {@link CommandObserver}. By
 * default on 127.0.0.1 with free port pairs; a {@link Placement} list puts each agent elsewhere
 * (an address in a network namespace, launched through {@code ip netns exec}). Shared by the
 * process tests and the benchmark ({@code io.quorumd.bench}). Processes are stopped by PID only.
 */
public final class LocalCluster implements AutoCloseable {
    public static final Path LAUNCHER = Path.of(System.getProperty("quorumd.launcher", "../agent/target/quorumd"));

    public final Path dir;
    public final Map<String, Member> members = new LinkedHashMap<>();
    public final CommandObserver observer;
    public final String stopTimeout;

    /** Where one agent runs: its address (bind and peer host), its port, and a launch prefix. */
    public record Placement(String host, int port, List<String> launchPrefix) {
        public Placement {
            launchPrefix = List.copyOf(launchPrefix);
        }
    }

    public static final class Member {
        public final String id;
        public final Path config;
        public final Path socket;
        public final Path stateDir;
        public final Placement placement;
        public Process process;
        public boolean paused;
        /** System.nanoTime() just before the last start. */
        public long startedNanos;
        /** The port of its {@code /metrics} on 127.0.0.1, or -1 without {@link Options#metrics}. */
        public int metricsPort = -1;

        Member(String id, Path config, Path socket, Path stateDir, Placement placement) {
            this.id = id;
            this.config = config;
            this.socket = socket;
            this.stateDir = stateDir;
            this.placement = placement;
        }

        public boolean alive() { return process != null && process.isAlive(); }

        public long pid() { return process.pid(); }
    }

    LocalCluster(Path dir, int n) throws IOException {
        this(dir, n, "1s", "");
    }

    /**
     * n agents on 127.0.0.1 under CURVE, the normal set-up (keys from the launcher's keygen).
     *
     * @param extraCommandYaml more lines under {@code command:} (two-space indented)
     */
    public LocalCluster(Path dir, int n, String stopTimeout, String extraCommandYaml) throws IOException {
        this(dir, loopback(n), stopTimeout, extraCommandYaml, "debug", true);
    }

    /** Free port pairs on 127.0.0.1, no launch prefix. */
    public static List<Placement> loopback(int n) throws IOException {
        List<Integer> ports = new ArrayList<>();
        List<Placement> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int p = io.quorumd.cli.FreePorts.pair(ports);
            ports.add(p);
            l.add(new Placement("127.0.0.1", p, List.of()));
        }
        return l;
    }

    /**
     * @param placements one per node, named n1, n2, ... in this order
     * @param extraCommandYaml more lines under {@code command:} (two-space indented)
     * @param logLevel the agents' {@code log_level}
     */
    public LocalCluster(Path dir, List<Placement> placements, String stopTimeout, String extraCommandYaml, String logLevel)
            throws IOException {
        this(dir, placements, stopTimeout, extraCommandYaml, logLevel, false);
    }

    /**
     * @param curve CURVE on every cluster socket: each node's key pair made by the launcher's
     *              {@code quorumd keygen}, the public keys in every peer list; false: trusted mode
     */
    public LocalCluster(Path dir, List<Placement> placements, String stopTimeout, String extraCommandYaml, String logLevel,
                        boolean curve) throws IOException {
        this(dir, placements, new Options().stopTimeout(stopTimeout).commandYaml(extraCommandYaml).logLevel(logLevel).curve(curve));
    }

    /**
     * What a test may change in the cluster it builds; the defaults are those of the ordinary
     * process tests (heartbeat 100 ms, election_timeout 1000 ms, stop_timeout 1 s, CURVE).
     */
    public static final class Options {
        String timing = "{heartbeat: 100ms, election_timeout: 1000ms}";
        String stopTimeout = "1s";
        String commandYaml = "";
        String topYaml = "";
        Map<String, Integer> priorities = Map.of();
        String traps = "trap 'exit 0' TERM";
        String logLevel = "debug";
        boolean curve = true;
        boolean metrics = false;

        /** The flow mapping under {@code timing:}, e.g. {@code {heartbeat: 50ms, election_timeout: 300ms}}. */
        public Options timing(String flowMapping) { this.timing = flowMapping; return this; }

        public Options stopTimeout(String d) { this.stopTimeout = d; return this; }

        /** More lines under {@code command:} (two-space indented). */
        public Options commandYaml(String lines) { this.commandYaml = lines; return this; }

        /** More top-level lines (e.g. a {@code hooks:} mapping), the same for every node. */
        public Options topYaml(String lines) { this.topYaml = lines; return this; }

        /** {@code peers[].priority} by node id (n1, n2, ...); unlisted nodes keep the default. */
        public Options priorities(Map<String, Integer> p) { this.priorities = Map.copyOf(p); return this; }

        /** The command's signal handling (bash), in place of {@code trap 'exit 0' TERM}. */
        public Options traps(String bash) { this.traps = bash; return this; }

        public Options logLevel(String l) { this.logLevel = l; return this; }

        public Options curve(boolean c) { this.curve = c; return this; }

        /** {@code metrics.listen} on 127.0.0.1 and a free port of its own for every node ({@link Member#metricsPort}). */
        public Options metrics(boolean m) { this.metrics = m; return this; }
    }

    /** n agents on 127.0.0.1 with the given options. */
    public LocalCluster(Path dir, int n, Options o) throws IOException {
        this(dir, loopback(n), o);
    }

    public LocalCluster(Path dir, List<Placement> placements, Options o) throws IOException {
        if (!Files.isExecutable(LAUNCHER)) throw new IllegalStateException("no launcher at " + LAUNCHER + ": run `make build`");
        String stopTimeout = o.stopTimeout;
        String extraCommandYaml = o.commandYaml;
        String logLevel = o.logLevel;
        boolean curve = o.curve;
        this.dir = dir;
        this.stopTimeout = stopTimeout;
        int n = placements.size();
        Path run = Files.createDirectories(dir.resolve("run"));
        Path cmd = writeCommand(dir.resolve("command.sh"), run, o.traps);
        StringBuilder peers = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Placement p = placements.get(i);
            peers.append("  - {id: n").append(i + 1).append(", host: \"").append(p.host()).append("\", port: ").append(p.port());
            Integer priority = o.priorities.get("n" + (i + 1));
            if (priority != null) peers.append(", priority: ").append(priority);
            if (curve) peers.append(", public_key: \"").append(keygen(dir.resolve("n" + (i + 1) + ".key"))).append('"');
            peers.append("}\n");
        }
        for (int i = 0; i < n; i++) {
            String id = "n" + (i + 1);
            Path state = Files.createDirectories(dir.resolve(id));
            Path socket = state.resolve("control.sock");
            Path config = dir.resolve(id + ".yaml");
            int metricsPort = -1;
            if (o.metrics) {
                try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                    metricsPort = free.getLocalPort();
                }
            }
            Files.writeString(config, "cluster: it\n"
                    + "node: " + id + "\n"
                    + "bind: " + placements.get(i).host() + "\n"
                    + "peers:\n" + peers
                    + "timing: " + o.timing + "\n"
                    + "command:\n"
                    + "  exec: [\"" + cmd + "\"]\n"
                    + "  stop_timeout: " + stopTimeout + "\n"
                    + extraCommandYaml
                    + "state_dir: " + state + "\n"
                    + "control_socket: " + socket + "\n"
                    + "log_level: " + logLevel + "\n"
                    + o.topYaml
                    + (metricsPort > 0 ? "metrics: {listen: \"127.0.0.1:" + metricsPort + "\"}\n" : "")
                    + (curve ? "security: {curve: {key: " + dir.resolve(id + ".key_secret") + "}}\n" : ""));
            Member m = new Member(id, config, socket, state, placements.get(i));
            m.metricsPort = metricsPort;
            members.put(id, m);
        }
        observer = CommandObserver.ofRunDirectory(run);
    }


    /** {@code quorumd keygen --out PATH} through the launcher; returns the public key it printed. */
    public static String keygen(Path out) throws IOException {
        Process p = new ProcessBuilder(LAUNCHER.toAbsolutePath().toString(), "keygen", "--out", out.toString())
                .redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) throw new IOException("quorumd keygen --out " + out + " exited " + p.exitValue() + ": " + text);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        for (String line : text.split("\n")) {
            if (io.quorumd.security.CurveKeys.isZ85Key(line.trim())) return line.trim();
        }
        throw new IOException("quorumd keygen printed no public key: " + text);
    }

    /**
     * Writes the managed command the tests and the benchmark use (also the one the keepalived
     * benchmark's notify scripts start, so both are judged by the same {@link CommandObserver}):
     * it registers itself in {@code run} as {@code cmd-$QUORUMD_NODE-$QUORUMD_TERM-PGID}, the
     * file holding its start time, then works until SIGTERM.
     */
    /** The benchmark's and the tests' command (see {@link #writeCommand(Path, Path, String)}), ending on TERM. */
    public static Path writeCommand(Path cmd, Path run) throws IOException {
        return writeCommand(cmd, run, "trap 'exit 0' TERM");
    }

    /**
     * Writes the command the loopback tests and the benchmark run: it registers its run with the
     * observer, crashes at once when told to (a file in {@code run}), runs {@code traps} (bash),
     * then works until stopped.
     */
    public static Path writeCommand(Path cmd, Path run, String traps) throws IOException {
        // No fork before the registration: the file's content is the start time (bash's
        // EPOCHREALTIME, microseconds), the benchmark's clock for "the command runs".
        Files.writeString(cmd, """
                #!/bin/bash
                # registers this run with the test's observer, then works until stopped
                started=$EPOCHREALTIME
                read -r -a stat < /proc/$$/stat
                echo "$started" > "%s/cmd-$QUORUMD_NODE-$QUORUMD_TERM-${stat[4]}"
                # a test that creates this file makes every command crash at once
                [ -e "%s/crash-every-command" ] && exit 1
                # and this one every command of one node
                [ -e "%s/crash-$QUORUMD_NODE" ] && exit 1
                %s
                while true; do sleep 0.2 & wait $!; done
                """.formatted(run, run, run, traps));
        Files.setPosixFilePermissions(cmd, PosixFilePermissions.fromString("rwxr-xr-x"));
        return cmd;
    }

    public Member member(String id) {
        Member m = members.get(id);
        if (m == null) throw new IllegalArgumentException("no node " + id);
        return m;
    }

    public void startAll() throws IOException {
        for (String id : members.keySet()) start(id);
    }

    public void start(String id) throws IOException {
        Member m = member(id);
        List<String> argv = new ArrayList<>(m.placement.launchPrefix());
        argv.addAll(List.of(LAUNCHER.toAbsolutePath().toString(), "run", "-c", m.config.toString()));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log(id).toFile()));
        m.startedNanos = System.nanoTime();
        m.process = pb.start();
        m.paused = false;
    }

    public Path log(String id) {
        return dir.resolve(id + ".log");
    }

    public void kill9(String id) {
        Member m = member(id);
        m.process.destroyForcibly();
        await(() -> !m.process.isAlive(), Duration.ofSeconds(5), id + " to die");
    }

    /** SIGTERM: the agent hands over and exits. */
    public void stop(String id, Duration within) {
        Member m = member(id);
        m.process.destroy();
        await(() -> !m.process.isAlive(), within, id + " to exit after SIGTERM");
    }

    public void pause(String id) throws IOException, InterruptedException {
        signal(member(id).pid(), "STOP");
        member(id).paused = true;
    }

    public void resume(String id) throws IOException, InterruptedException {
        signal(member(id).pid(), "CONT");
        member(id).paused = false;
    }

    private static void signal(long pid, String sig) throws IOException, InterruptedException {
        int rc = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor();
        if (rc != 0) throw new IOException("kill -" + sig + " " + pid + " exited " + rc);
    }

    /** The node's status as JSON, or null if it does not answer. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> status(String id) {
        Member m = member(id);
        if (!m.alive() || m.paused) return null;
        Reply r = ControlClient.call(m.socket, "status-json", Duration.ofMillis(500));
        return r.exitCode() == 0 ? (Map<String, Object>) Json.parse(r.body()) : null;
    }

    /**
     * One store op ({@code "op", "kv.put", "key", ...} as alternating names and values) on {@code id}'s
     * control socket. Exit 3 (no master yet, or no majority within the election timeout) surely had
     * no effect: asked again for up to 10 s. Exit 1 (outcome unknown) is never asked again.
     */
    public io.quorumd.control.Reply kv(String id, Object... fields) {
        Map<String, Object> req = new LinkedHashMap<>();
        for (int i = 0; i < fields.length; i += 2) req.put((String) fields[i], fields[i + 1]);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (true) {
            io.quorumd.control.Reply r = ControlClient.request(member(id).socket, req, Duration.ofSeconds(10));
            if (r.exitCode() != 3 || System.nanoTime() - deadline > 0) return r;
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return r;
            }
        }
    }

    /**
     * Waits until every running member has applied the same entry of the replicated log, at least the
     * master's no-op (index 1 or more): no voter's log is then behind another's, so Raft's up-to-date
     * rule refuses no one's vote and the election timers alone (priority's slots) decide the next
     * election. Returns that index.
     */
    public long awaitLogsInSync(Duration within) {
        long[] index = {-1};
        try {
            awaitInSync(within, index);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + describe(), e);
        }
        return index[0];
    }

    private void awaitInSync(Duration within, long[] index) {
        await(() -> {
            Long common = null;
            for (String id : members.keySet()) {
                if (!member(id).alive()) continue;
                Long applied = appliedIndex(status(id));
                if (applied == null || applied < 1 || (common != null && !common.equals(applied))) return false;
                common = applied;
            }
            index[0] = common == null ? -1 : common;
            return common != null;
        }, within, "every running member to apply the same log index");
    }

    /** {@code store.applied_index} of a status, or null when the status or the key is missing. */
    @SuppressWarnings("unchecked")
    public static Long appliedIndex(Map<String, Object> s) {
        if (s == null || !(s.get("store") instanceof Map)) return null;
        Object v = ((Map<String, Object>) s.get("store")).get("applied_index");
        return v instanceof Number n ? n.longValue() : null;
    }

    public static String role(Map<String, Object> s) {
        return s == null ? null : (String) s.get("role");
    }

    public static long term(Map<String, Object> s) {
        return ((Number) s.get("term")).longValue();
    }

    @SuppressWarnings("unchecked")
    public static String commandState(Map<String, Object> s) {
        if (s == null || !(s.get("command") instanceof Map)) return null;
        return (String) ((Map<String, Object>) s.get("command")).get("state");
    }

    /**
     * The one node that is master with a lease and runs its command; null if none, or if the
     * answers (taken one after another, so not at one instant) do not agree yet. Whether two
     * commands ever ran at once is the {@link CommandObserver}'s to judge.
     */
    public String masterRunning() {
        String found = null;
        for (String id : members.keySet()) {
            Map<String, Object> s = status(id);
            if ("master".equals(role(s)) && s.get("lease_ms") instanceof Number n && n.longValue() > 0
                    && "running".equals(commandState(s))) {
                if (found != null) return null;
                found = id;
            }
        }
        return found;
    }

    public String awaitMasterRunning(Duration within, String notThis) {
        String[] m = new String[1];
        try {
            await(() -> {
                m[0] = masterRunning();
                return m[0] != null && !m[0].equals(notThis) && observer.running().size() == 1;
            }, within, "a master" + (notThis != null ? " other than " + notThis : "") + " running its command");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + describe(), e);
        }
        return m[0];
    }

    /** What each agent says, what the observer sees running, and the agents' logs: for a failure's message. */
    public String describe() {
        StringBuilder sb = new StringBuilder("command groups the observer sees alive: " + observer.running() + "\nstatuses:\n");
        for (String id : members.keySet()) {
            Member mem = member(id);
            String st = !mem.alive() ? "not running" : mem.paused ? "paused" : String.valueOf(status(id));
            sb.append("  ").append(id).append(": ").append(st).append('\n');
        }
        return sb.append(logs()).toString();
    }

    public static void await(BooleanSupplier cond, Duration within, String what) {
        long deadline = System.nanoTime() + within.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + within.toMillis() + " ms waiting for " + what);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    public String logs() {
        StringBuilder sb = new StringBuilder();
        for (String id : members.keySet()) {
            Path f = dir.resolve(id + ".log");
            try {
                List<String> lines = Files.readAllLines(f);
                sb.append("---- ").append(id).append(" (last 60 lines)\n");
                for (String l : lines.subList(Math.max(0, lines.size() - 60), lines.size())) sb.append(l).append('\n');
            } catch (IOException e) {
                sb.append("---- ").append(id).append(": no log\n");
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        for (Member m : members.values()) {
            if (m.paused) {
                try {
                    resume(m.id);
                } catch (Exception ignored) {
                    // gone
                }
            }
        }
        List<Process> agents = new ArrayList<>();
        for (Member m : members.values()) if (m.process != null) agents.add(m.process);
        io.quorumd.cli.Processes.stopAll(agents, Duration.ofSeconds(10).toNanos());
        // commands of killed agents are stopped by their watchdogs within stop_timeout
        try {
            await(() -> observer.running().isEmpty(), Duration.ofSeconds(10), "every command group to end");
        } finally {
            observer.close();
        }
    }
}
