package io.quorumd.cli;

import io.quorumd.control.ControlClient;
import io.quorumd.control.Json;
import io.quorumd.control.Reply;
import io.quorumd.security.CurveKeys;
import io.quorumd.security.KeyFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code quorumd demo}: three real agents on 127.0.0.1 (separate JVMs, free ports, state in a
 * temporary directory), each with a small demo command; a live table refreshing in place; keys
 * (or a timer with {@code --auto}) to kill -9, pause and restart the master, or kill -9 its agent
 * and restart it 100 ms later as systemd would; each fail-over measured from the fault to the next
 * master's command running, with the proof that master used (or the wait it sat out).
 */
public final class Demo {
    private static final String[] IDS = {"node-a", "node-b", "node-c"};
    private static final long POLL_NANOS = 50_000_000L;

    private final PrintWriter out;
    private final boolean auto;
    private final long durationNanos;
    private final boolean interactive;
    private final Path dir;
    private final Map<String, Member> members = new LinkedHashMap<>();
    private final List<String> events = new ArrayList<>();
    private Fault pendingFault;
    private String lastFailover = "-";
    private volatile boolean quit;
    private String savedStty;

    private static final class Member {
        final String id;
        final int port;
        final Path config;
        final Path socket;
        Process process;
        boolean paused;
        Map<String, Object> status;

        Member(String id, int port, Path config, Path socket) {
            this.id = id;
            this.port = port;
            this.config = config;
            this.socket = socket;
        }

        boolean alive() { return process != null && process.isAlive(); }
    }

    /** A fault in flight: when it happened, what it was, and which master it hit. */
    private record Fault(String what, String oldMaster, long oldCommandPid, long atNanos) {}

    public Demo(PrintWriter out, boolean auto, Duration duration) throws IOException {
        this.out = out;
        this.interactive = !auto && System.console() != null;
        this.auto = auto || System.console() == null;
        this.durationNanos = duration == null ? Long.MAX_VALUE : duration.toNanos();
        this.dir = Files.createTempDirectory("quorumd-demo-");
    }

    public int run() throws Exception {
        Thread cleanup = new Thread(this::cleanup, "demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            setUp();
            for (Member m : members.values()) start(m);
            if (interactive) rawTerminal();
            else out.println("quorumd demo: " + (auto ? "injecting faults on a timer" : "no terminal") + "; state in " + dir);
            out.flush();
            loop();
            return 0;
        } finally {
            cleanup();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Set-up
    // ------------------------------------------------------------------------------------------

    private void setUp() throws IOException {
        Path cmd = dir.resolve("demo-command.sh");
        Files.writeString(cmd, """
                #!/bin/bash
                # The demo's managed command: says who runs it, with the fencing token.
                trap 'echo "demo command on $QUORUMD_NODE (term $QUORUMD_TERM) stopping"; exit 0' TERM
                echo "demo command started on $QUORUMD_NODE as master, term $QUORUMD_TERM"
                while true; do sleep 1 & wait $!; done
                """);
        Files.setPosixFilePermissions(cmd, PosixFilePermissions.fromString("rwxr-xr-x"));
        int[] ports = new int[IDS.length];
        List<Integer> taken = new ArrayList<>();
        for (int i = 0; i < IDS.length; i++) {
            ports[i] = FreePorts.pair(taken);
            taken.add(ports[i]);
        }
        // CURVE, as an operator would set it up: a key pair per node (quorumd keygen), every public key listed
        StringBuilder peers = new StringBuilder();
        for (int i = 0; i < IDS.length; i++) {
            CurveKeys keys = CurveKeys.generate();
            KeyFile.write(dir.resolve(IDS[i] + ".key"), keys);
            peers.append("  - {id: ").append(IDS[i]).append(", host: 127.0.0.1, port: ").append(ports[i])
                    .append(", public_key: \"").append(keys.publicKeyZ85()).append("\"}\n");
        }
        for (int i = 0; i < IDS.length; i++) {
            Path state = dir.resolve(IDS[i]);
            Files.createDirectories(state);
            Path socket = state.resolve("control.sock");
            Path config = dir.resolve(IDS[i] + ".yaml");
            Files.writeString(config, "cluster: demo\n"
                    + "node: " + IDS[i] + "\n"
                    + "bind: 127.0.0.1\n"
                    + "security: {curve: {key: " + KeyFile.secretPath(dir.resolve(IDS[i] + ".key")) + "}}\n"
                    + "peers:\n" + peers
                    + "timing: {heartbeat: 100ms, election_timeout: 1000ms, clock_drift: 1%}\n"
                    + "command:\n"
                    + "  exec: [\"" + cmd + "\"]\n"
                    + "  stop_timeout: 2s\n"
                    + "state_dir: " + state + "\n"
                    + "control_socket: " + socket + "\n"
                    + "log_level: info\n");
            members.put(IDS[i], new Member(IDS[i], ports[i], config, socket));
        }
    }

    private void start(Member m) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-Xmx32m", "-XX:TieredStopAtLevel=1",
                "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.quorumd.Main", "run", "-c", m.config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(m.id + ".log").toFile()));
        m.process = pb.start();
        m.paused = false;
        event("started " + m.id + " (agent pid " + m.process.pid() + ", log " + dir.resolve(m.id + ".log") + ")");
    }

    // ------------------------------------------------------------------------------------------
    // The loop: poll, render, inject
    // ------------------------------------------------------------------------------------------

    private void loop() throws Exception {
        long startNanos = System.nanoTime();
        long nextRender = 0;
        long nextAuto = startNanos + 6_000_000_000L;
        int autoStep = 0;
        InputStream in = System.in;
        while (!quit && System.nanoTime() - startNanos < durationNanos) {
            poll();
            checkFailover();
            long now = System.nanoTime();
            if (interactive) {
                while (in.available() > 0) key(in.read());
                if (now >= nextRender) {
                    render();
                    nextRender = now + 200_000_000L;
                }
            }
            if (auto && now >= nextAuto && pendingFault == null) {
                autoStep = autoFault(autoStep);
                nextAuto = System.nanoTime() + 4_000_000_000L;
            }
            Thread.sleep(POLL_NANOS / 1_000_000);
        }
        if (interactive) render();
        out.println("demo over: " + events.stream().filter(e -> e.contains("fail-over")).count() + " fail-overs measured");
        out.flush();
    }

    private int autoFault(int step) throws Exception {
        String master = master();
        if (master == null) return step;
        switch (step % 5) {
            case 0 -> killMaster();
            case 1 -> restartDown();
            case 2 -> pauseMaster();
            case 3 -> stepDown();
            default -> killAndRestartMaster();
        }
        if (step % 5 == 2) {
            // resume the paused node after three election timeouts: it must step down, not fight
            Member m = members.get(master);
            new Thread(() -> {
                try {
                    Thread.sleep(3000);
                    resume(m);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "demo-resume").start();
        }
        return step + 1;
    }

    private void key(int c) throws Exception {
        switch (c) {
            case 'k' -> killMaster();
            case 'R' -> killAndRestartMaster();
            case 'p' -> pauseMaster();
            case 'r' -> restartDown();
            case 's' -> stepDown();
            case 'q', 3 -> quit = true;
            default -> { }
        }
    }

    private void killMaster() {
        Member m = members.get(master());
        if (m == null) return;
        pendingFault = new Fault("kill -9 " + m.id, m.id, commandPid(m), System.nanoTime());
        m.process.destroyForcibly();   // SIGKILL by PID
        event("kill -9 master " + m.id + " (agent pid " + m.process.pid() + ")");
    }

    /**
     * kill -9 of the master's agent, restarted 100 ms later as systemd's {@code Restart=on-failure}
     * would: its watchdog stops the command at once, and the restarted agent finds the process group
     * empty and offers its restart certificate, so the next master need not wait out the lease.
     */
    private void killAndRestartMaster() throws Exception {
        Member m = members.get(master());
        if (m == null) return;
        pendingFault = new Fault("kill -9 + restart " + m.id, m.id, commandPid(m), System.nanoTime());
        long pid = m.process.pid();
        m.process.destroyForcibly();   // SIGKILL by PID
        m.process.waitFor();
        event("kill -9 master " + m.id + " (agent pid " + pid + "); restarting it in 100 ms");
        Thread.sleep(100);
        start(m);
    }

    private void pauseMaster() throws Exception {
        String id = master();
        Member m = members.get(id);
        if (m == null) {
            for (Member x : members.values()) if (x.paused) resume(x);
            return;
        }
        signal(m.process.pid(), "STOP");
        m.paused = true;
        pendingFault = new Fault("SIGSTOP " + m.id, m.id, commandPid(m), System.nanoTime());
        event("paused master " + m.id + " (SIGSTOP); its watchdog stops the command when the lease runs out");
    }

    private void resume(Member m) {
        if (!m.paused) return;
        try {
            signal(m.process.pid(), "CONT");
        } catch (Exception e) {
            event("SIGCONT " + m.id + " failed: " + e.getMessage());
        }
        m.paused = false;
        event("resumed " + m.id + " (SIGCONT)");
    }

    private void restartDown() throws IOException {
        for (Member m : members.values()) {
            if (m.paused) resume(m);
            if (!m.alive()) start(m);
        }
    }

    private void stepDown() {
        Member m = members.get(master());
        if (m == null) return;
        pendingFault = new Fault("step-down " + m.id, m.id, commandPid(m), System.nanoTime());
        Reply r = ControlClient.request(m.socket, "step-down", Duration.ofSeconds(5));
        event("step-down of " + m.id + ": " + r.body().trim());
    }

    private static void signal(long pid, String sig) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor();
    }

    @SuppressWarnings("unchecked")
    private void poll() {
        for (Member m : members.values()) {
            if (!m.alive() || m.paused) {
                m.status = null;
                continue;
            }
            Reply r = ControlClient.request(m.socket, "status", Duration.ofMillis(300));
            m.status = r.exitCode() == 0 ? (Map<String, Object>) Json.parse(r.body()) : null;
        }
    }

    /** The node that says it is master and runs its command, or that at least says it is master. */
    private String master() {
        String said = null;
        for (Member m : members.values()) {
            if (m.status != null && "master".equals(m.status.get("role"))) {
                if (commandPid(m) > 0) return m.id;
                said = m.id;
            }
        }
        return said;
    }

    @SuppressWarnings("unchecked")
    private static long commandPid(Member m) {
        if (m.status == null) return -1;
        Object c = m.status.get("command");
        if (!(c instanceof Map)) return -1;
        Map<String, Object> cmd = (Map<String, Object>) c;
        Object pid = cmd.get("pid");
        return "running".equals(cmd.get("state")) && pid instanceof Number n ? n.longValue() : -1;
    }

    private void checkFailover() {
        Fault f = pendingFault;
        if (f == null) return;
        for (Member m : members.values()) {
            long pid = commandPid(m);
            if (pid > 0 && "master".equals(m.status.get("role")) && (!m.id.equals(f.oldMaster()) || pid != f.oldCommandPid())) {
                long ms = (System.nanoTime() - f.atNanos()) / 1_000_000;
                lastFailover = ms + " ms (" + f.what() + " -> " + m.id + ")";
                event("fail-over after " + f.what() + ": " + m.id + " runs the command " + ms + " ms later (term "
                        + m.status.get("term") + ", cleared by " + clearedBy(m.status) + ", ±" + POLL_NANOS / 1_000_000
                        + " ms polling)");
                pendingFault = null;
                return;
            }
        }
    }

    /** {@code restart certificate of node-a (term 4)}, from the new master's status. */
    static String clearedBy(Map<String, Object> status) {
        Object by = status.get("cleared_by");
        if (by == null) return "? (an agent without cleared_by)";
        String what = switch (String.valueOf(by)) {
            case "certificate" -> "restart certificate of";
            case "handover" -> "hand-over from";
            case "fence" -> "fence of";
            case "own_stop" -> "own stop of";
            case "lease_expiry" -> "lease expiry (no proof: waited out the old lease + stop_timeout) of";
            case "no_master" -> "no earlier master";
            default -> String.valueOf(by);
        };
        Object old = status.get("old_master");
        return old == null ? what : what + " " + old + " (term " + status.get("old_master_term") + ")";
    }

    private void event(String s) {
        String line = String.format("%tT %s", System.currentTimeMillis(), s);
        events.add(line);
        if (!interactive) {
            out.println(line);
            out.flush();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Rendering and the terminal
    // ------------------------------------------------------------------------------------------

    @SuppressWarnings("unchecked")
    private void render() {
        StringBuilder sb = new StringBuilder("\033[H\033[2J");
        sb.append("quorumd demo: 3 agents on 127.0.0.1, state in ").append(dir).append("\r\n\r\n");
        sb.append(String.format("%-8s %-7s %-10s %-5s %-8s %-12s %s\r\n", "node", "agent", "role", "term", "master",
                "command pid", "command"));
        for (Member m : members.values()) {
            String agent = !m.alive() ? "down" : m.paused ? "paused" : "up";
            Map<String, Object> s = m.status;
            String role = s == null ? "-" : String.valueOf(s.get("role"));
            String term = s == null ? "-" : String.valueOf(s.get("term"));
            String master = s == null || s.get("master") == null ? "-" : String.valueOf(s.get("master"));
            String pid = "-";
            String cmd = "-";
            if (s != null && s.get("command") instanceof Map) {
                Map<String, Object> c = (Map<String, Object>) s.get("command");
                cmd = String.valueOf(c.get("state"));
                if (c.get("pid") != null) pid = String.valueOf(c.get("pid"));
            }
            sb.append(String.format("%-8s %-7s %-10s %-5s %-8s %-12s %s\r\n", m.id, agent, role, term, master, pid, cmd));
        }
        sb.append("\r\nlast fail-over: ").append(lastFailover).append("\r\n\r\n");
        sb.append("keys: k kill -9 master   R kill -9 master's agent, restart it 100 ms later   p pause/resume master\r\n"
                + "      r restart down nodes   s step-down   q quit\r\n\r\n");
        int from = Math.max(0, events.size() - 12);
        for (String e : events.subList(from, events.size())) sb.append(e).append("\r\n");
        out.print(sb);
        out.flush();
    }

    private void rawTerminal() {
        try {
            savedStty = stty("-g").trim();
            stty("-icanon", "-echo", "min", "1");
        } catch (Exception e) {
            savedStty = null;
        }
    }

    private static String stty(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("stty"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/tty")))
                .redirectErrorStream(true).start();
        String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return s;
    }

    /** Stops every agent by PID (graceful first, so commands hand over and stop), then removes the state. */
    private synchronized void cleanup() {
        if (members.isEmpty()) return;
        for (Member m : members.values()) if (m.paused) resume(m);
        List<Process> agents = new ArrayList<>();
        for (Member m : members.values()) if (m.process != null) agents.add(m.process);
        Processes.stopAll(agents, 8_000_000_000L);
        members.clear();
        if (savedStty != null) {
            try {
                stty(savedStty);
            } catch (Exception ignored) {
                // the terminal is gone
            }
        }
        // the watchdogs stop any command whose agent was killed; give them their stop_timeout
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
