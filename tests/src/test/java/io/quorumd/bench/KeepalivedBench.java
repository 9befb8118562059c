package io.quorumd.bench;

import io.quorumd.command.Signals;
import io.quorumd.it.CommandObserver;
import io.quorumd.it.local.LocalCluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * keepalived side by side with quorumd: three keepalived instances (VRRP only, {@code -P}), one
 * per network namespace (198.18.200.11-13 on veths to a bridge in a hub namespace: the same
 * {@link NetNs} as quorumd's cut-off scenario), VRRP version 3 with {@code advert_int 0.1},
 * unicast peers (no multicast leaves the namespaces), priorities 150/100/50, node 1 {@code state
 * MASTER} and the others {@code BACKUP}, preemption on (keepalived's default; no {@code nopreempt}).
 * The notify scripts do what a keepalived user's do with a service: {@code notify_master} starts
 * the command unless it already runs on that node ({@code systemctl start} is idempotent),
 * {@code notify_backup}, {@code notify_fault} and {@code notify_stop} stop it (SIGTERM to its
 * process group, SIGKILL after 1 s, quorumd's {@code stop_timeout} here). The command is
 * quorumd's benchmark command ({@link LocalCluster#writeCommand}), watched by the same
 * {@link CommandObserver}, started in its own session (as a separate unit would be), so it
 * outlives a killed keepalived as a systemd service started by {@code systemctl start} would.
 *
 * <p>Faults, on the master's VRRP process (the child keepalived forks; the parent runs with
 * {@code --dont-respawn}, so it exits when the child dies, which is what systemd sees):
 * kill -9 and keepalived started again 100 ms later (systemd's {@code RestartSec=100ms}; Debian's
 * unit itself has no {@code Restart=}), kill -9 without a restart, and SIGSTOP for 3 s then
 * SIGCONT. Measured per trial, on the same clocks as quorumd's trials: the fault to the next
 * command's own start record; the intervals in which two command groups were alive at once
 * ({@link Overlaps}); and the commands "leaked": alive 1 s after the new command started (and
 * after SIGCONT for the freeze) on a node whose VRRP process is dead, stopped or not master.
 */
final class KeepalivedBench {
    static final Path KEEPALIVED = Path.of("/usr/sbin/keepalived");
    static final Duration STEADY = Duration.ofSeconds(30);
    static final Duration FAILOVER = Duration.ofSeconds(20);
    static final long FREEZE_MILLIS = 3000;
    static final int[] PRIORITY = {150, 100, 50};

    enum Scenario {
        KILL_RESTART("kill -9 of the master's VRRP process, keepalived restarted after 100 ms", FailoverBench.Scenario.KILL_RESTART),
        KILL("kill -9 of the master's VRRP process, not restarted", FailoverBench.Scenario.KILL),
        SIGSTOP("SIGSTOP of the master's VRRP process for 3 s, then SIGCONT", FailoverBench.Scenario.SIGSTOP);

        final String what;
        /** quorumd's scenario that this one sits beside. */
        final FailoverBench.Scenario quorumd;

        Scenario(String what, FailoverBench.Scenario quorumd) {
            this.what = what;
            this.quorumd = quorumd;
        }
    }

    record Sample(Scenario scenario, int trial, String oldMaster, String newMaster, double toNewCommandMillis, int overlaps,
                  double overlapMillis, int leaked, boolean ok, String note) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("scenario", scenario.name());
            m.put("trial", trial);
            m.put("old_master", oldMaster);
            m.put("new_master", newMaster);
            m.put("to_new_command_ms", FailoverBench.num(toNewCommandMillis));
            m.put("overlaps", overlaps);
            m.put("overlap_ms", FailoverBench.num(overlapMillis));
            m.put("leaked", leaked);
            m.put("ok", ok);
            m.put("note", note);
            return m;
        }
    }

    /**
     * @param strays commands the bench found running on a node whose VRRP process was backup (its
     *               notify scripts ran out of order: keepalived forks each one and does not wait) and
     *               stopped, so the trials could go on
     * @param restarted times the master had no command for 10 s (the same race the other way) and
     *                  the bench ran its notify_master script again, as an operator would
     */
    record Result(Scenario scenario, List<Sample> samples, int strays, int restarted, String error) {}

    /** One instance at rest: both processes (parent and VRRP child) together. */
    record Rest(String node, String state, double cpuPercent, long rssKiB, long parentRssKiB, long vrrpRssKiB) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("node", node);
            m.put("state", state);
            m.put("cpu_percent_of_one_core", FailoverBench.num(cpuPercent));
            m.put("rss_kib", rssKiB);
            m.put("parent_rss_kib", parentRssKiB);
            m.put("vrrp_rss_kib", vrrpRssKiB);
            return m;
        }
    }

    record RestResult(double windowSeconds, List<Rest> nodes, String error) {}

    /** Why the keepalived set is skipped, or null when it can run. */
    static String unavailable() {
        if (!Files.isExecutable(KEEPALIVED)) return "keepalived is not installed (tests/bench/setup.sh installs Debian's package as root)";
        if (!"root".equals(System.getProperty("user.name"))) return "the keepalived scenarios need root (network namespaces)";
        return null;
    }

    static String version() {
        return Machine.firstLine(KEEPALIVED, "--version");
    }

    private final Path work;
    private final int trials;
    private final SplittableRandom random;

    KeepalivedBench(Path work, int trials, long seed) {
        this.work = work;
        this.trials = trials;
        this.random = new SplittableRandom(seed);
    }

    /** Three instances in their namespaces, the observer on their commands. */
    private final class Cluster implements AutoCloseable {
        final Path dir;
        final Path run;
        final NetNs ns;
        final CommandObserver observer;
        final Process[] parents = new Process[3];

        Cluster(Path dir) throws IOException {
            this.dir = dir;
            this.run = Files.createDirectories(dir.resolve("run"));
            Path cmd = LocalCluster.writeCommand(dir.resolve("command.sh"), run);
            writeNotify(dir.resolve("notify.sh"), cmd);
            for (int i = 1; i <= 3; i++) Files.writeString(conf(i), config(i), StandardCharsets.UTF_8);
            this.ns = new NetNs(3);
            this.observer = CommandObserver.ofRunDirectory(run);
        }

        Path conf(int i) {
            return dir.resolve("n" + i + ".conf");
        }

        Path vrrpPidFile(int i) {
            return dir.resolve("n" + i + "-vrrp.pid");
        }

        String config(int i) {
            StringBuilder peers = new StringBuilder();
            for (int j = 1; j <= 3; j++) if (j != i) peers.append("    ").append(NetNs.address(j)).append('\n');
            String notify = dir.resolve("notify.sh").toString();
            return "# written by io.quorumd.bench.KeepalivedBench\n"
                    + "global_defs {\n  router_id n" + i + "\n  vrrp_version 3\n  script_user root\n}\n"
                    + "vrrp_instance bench {\n"
                    + "  state " + (i == 1 ? "MASTER" : "BACKUP") + "\n"
                    + "  interface e0\n  virtual_router_id 51\n"
                    + "  priority " + PRIORITY[i - 1] + "\n"
                    + "  advert_int 0.1\n"
                    + "  unicast_src_ip " + NetNs.address(i) + "\n"
                    + "  unicast_peer {\n" + peers + "  }\n"
                    + "  virtual_ipaddress {\n    198.18.200.100/24\n  }\n"
                    + "  notify_master \"" + notify + " n" + i + " master\"\n"
                    + "  notify_backup \"" + notify + " n" + i + " backup\"\n"
                    + "  notify_fault \"" + notify + " n" + i + " fault\"\n"
                    + "  notify_stop \"" + notify + " n" + i + " stop\"\n"
                    + "}\n";
        }

        void start(int i) throws IOException {
            List<String> argv = new ArrayList<>(ns.placements().get(i - 1).launchPrefix());
            argv.addAll(List.of(KEEPALIVED.toString(), "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
                    "--dont-respawn", "-f", conf(i).toString(), "-p", dir.resolve("n" + i + ".pid").toString(),
                    "-r", vrrpPidFile(i).toString()));
            Files.deleteIfExists(vrrpPidFile(i));
            ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("n" + i + ".log").toFile()));
            parents[i - 1] = pb.start();
        }

        /** The VRRP child's pid (a live child of this instance's parent), or -1. */
        long vrrpPid(int i) {
            Process p = parents[i - 1];
            if (p == null || !p.isAlive()) return -1;
            try {
                long pid = Long.parseLong(Files.readString(vrrpPidFile(i), StandardCharsets.US_ASCII).trim());
                return ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L) == p.pid() ? pid : -1;
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }

        /** Each node's last notified state (master, backup, fault, stop), from the notify log. */
        Map<String, String> states() {
            Map<String, String> m = new HashMap<>();
            try {
                for (String l : Files.readAllLines(dir.resolve("events"), StandardCharsets.US_ASCII)) {
                    String[] f = l.trim().split(" ");
                    if (f.length >= 3) m.put(f[1], f[2]);
                }
            } catch (IOException e) {
                // no event yet
            }
            return m;
        }

        /**
         * Each instance's VRRP state as keepalived itself logs it ("Entering MASTER STATE"): the
         * notify scripts' own order may differ, as keepalived forks each one without waiting.
         */
        Map<String, String> vrrpStates() {
            Map<String, String> m = new HashMap<>();
            for (int i = 1; i <= 3; i++) {
                try {
                    for (String l : Files.readAllLines(dir.resolve("n" + i + ".log"), StandardCharsets.UTF_8)) {
                        int at = l.indexOf("Entering ");
                        if (at >= 0 && l.indexOf(" STATE", at) > 0) m.put("n" + i, l.substring(at + 9, l.indexOf(" STATE", at)).toLowerCase());
                    }
                } catch (IOException | RuntimeException e) {
                    // not started yet
                }
            }
            return m;
        }

        /** A node whose VRRP process is alive, not stopped, and in MASTER state. */
        boolean masterAbove(String node) {
            int i = Integer.parseInt(node.substring(1));
            long v = vrrpPid(i);
            if (v < 0 || stopped(v)) return false;
            return "master".equals(vrrpStates().get(node));
        }

        int strays;
        int restarted;

        @Override
        public void close() {
            for (int i = 1; i <= 3; i++) stopInstance(i);
            // whatever the notify scripts left running (a killed keepalived's command): by group
            for (CommandObserver.Run r : observer.running()) Signals.signalGroup((int) r.hostPid(), Signals.SIGKILL);
            try {
                LocalCluster.await(() -> observer.running().isEmpty(), Duration.ofSeconds(5), "every command group to end");
            } catch (AssertionError e) {
                System.out.println("bench: keepalived: " + e.getMessage());
            }
            observer.close();
            ns.close();
        }

        void stopInstance(int i) {
            Process p = parents[i - 1];
            if (p == null) return;
            long v = vrrpPid(i);
            if (v > 0) Signals.kill((int) v, Signals.SIGCONT);
            if (p.isAlive()) {
                p.destroy();
                try {
                    if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (v > 0 && ProcessHandle.of(v).map(ProcessHandle::isAlive).orElse(false)) Signals.kill((int) v, Signals.SIGKILL);
        }
    }

    private void writeNotify(Path f, Path cmd) throws IOException {
        Path d = f.getParent();
        Files.writeString(f, """
                #!/bin/bash
                # keepalived's notify_*: NODE STATE. master: start the command unless it runs on this node
                # (as `systemctl start` would); backup, fault, stop: stop it (TERM to its group, KILL after 1 s).
                node=$1 state=$2 d=%s
                exec 9>>"$d/$node.lock"; flock 9
                echo "$EPOCHREALTIME $node $state $$" >> "$d/events"
                pg=$(cat "$d/$node.pgid" 2>/dev/null)
                alive() { [ -n "$pg" ] && ps -e -o pgid=,stat= | awk -v p="$pg" '$1 == p && $2 !~ /^Z/ {f = 1} END {exit !f}'; }
                case $state in
                  master)
                    alive && exit 0
                    exec 8>>"$d/term.lock"; flock 8
                    term=$(( $(cat "$d/term" 2>/dev/null || echo 0) + 1 )); echo "$term" > "$d/term"
                    exec 8>&-
                    QUORUMD_NODE=$node QUORUMD_TERM=$term setsid %s </dev/null >/dev/null 2>&1 9>&- &
                    echo $! > "$d/$node.pgid" ;;
                  *)
                    if alive; then
                      kill -TERM -- "-$pg"
                      for _ in $(seq 1 100); do alive || break; sleep 0.01; done
                      alive && kill -KILL -- "-$pg"
                    fi ;;
                esac
                exit 0
                """.formatted(d, cmd));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static boolean stopped(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            char s = stat.charAt(stat.lastIndexOf(')') + 2);
            return s == 'T' || s == 't';
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * One master (alive, not stopped) running the only command, every other instance backup, by
     * keepalived's own states. After 10 s without it, with the VRRP states settled, a command on a
     * backup node is stopped (counted in strays) and a master without its command gets its
     * notify_master run again (counted in restarted): the notify scripts ran out of order.
     */
    private static String steady(Cluster c) {
        String[] m = new String[1];
        try {
            steadyAwait(c, m, Duration.ofSeconds(10));
            return m[0];
        } catch (AssertionError first) {
            repair(c);
        }
        try {
            steadyAwait(c, m, STEADY);
        } catch (AssertionError e) {
            StringBuilder sb = new StringBuilder(e.getMessage()).append(": VRRP states ").append(c.vrrpStates())
                    .append(", notified ").append(c.states()).append(", VRRP pids");
            for (int i = 1; i <= 3; i++) sb.append(' ').append(c.vrrpPid(i)).append(stopped(c.vrrpPid(i)) ? " (stopped)" : "");
            sb.append(", commands alive ").append(c.observer.running());
            throw new AssertionError(sb.toString(), e);
        }
        return m[0];
    }

    private static void repair(Cluster c) {
        Map<String, String> st = c.vrrpStates();
        String master = null;
        for (int i = 1; i <= 3; i++) {
            long v = c.vrrpPid(i);
            if (v < 0 || stopped(v)) return;
            if ("master".equals(st.get("n" + i))) {
                if (master != null) return;
                master = "n" + i;
            }
        }
        if (master == null) return;
        boolean masterRuns = false;
        for (CommandObserver.Run r : c.observer.running()) {
            if (r.node().equals(master)) {
                masterRuns = true;
            } else {
                System.out.println("bench: keepalived: " + r + " runs on a backup node (notify scripts out of order): stopping it");
                Signals.signalGroup((int) r.hostPid(), Signals.SIGKILL);
                c.strays++;
            }
        }
        if (!masterRuns) {
            System.out.println("bench: keepalived: master " + master + " runs no command (notify scripts out of order): notify_master again");
            try {
                new ProcessBuilder(c.dir.resolve("notify.sh").toString(), master, "master").inheritIO().start().waitFor(10, TimeUnit.SECONDS);
            } catch (IOException e) {
                System.out.println("bench: keepalived: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            c.restarted++;
        }
    }

    private static void steadyAwait(Cluster c, String[] m, Duration within) {
        LocalCluster.await(() -> {
            String master = null;
            Map<String, String> st = c.vrrpStates();
            for (int i = 1; i <= 3; i++) {
                long v = c.vrrpPid(i);
                if (v < 0 || stopped(v)) return false;
                String s = st.get("n" + i);
                if ("master".equals(s)) {
                    if (master != null) return false;
                    master = "n" + i;
                } else if (!"backup".equals(s)) {
                    return false;
                }
            }
            if (master == null) return false;
            List<CommandObserver.Run> running = c.observer.running();
            if (running.size() != 1 || !running.get(0).node().equals(master)) return false;
            m[0] = master;
            return true;
        }, within, "a steady keepalived cluster (one master running the command, the others backup)");
    }

    Result run(Scenario sc) throws IOException {
        Path dir = Files.createDirectories(work.resolve("keepalived-" + sc.name().toLowerCase()));
        List<Sample> samples = new ArrayList<>();
        List<long[]> windows = new ArrayList<>();
        Cluster c = null;
        String error = null;
        int strays = 0;
        int restarted = 0;
        try {
            c = new Cluster(dir);
            for (int i = 1; i <= 3; i++) c.start(i);
            for (int i = 1; i <= trials; i++) {
                long from = System.nanoTime();
                Sample s = trial(c, sc, i);
                windows.add(new long[] {from, System.nanoTime()});
                samples.add(s);
                System.out.printf("bench: keepalived %-12s trial %2d/%d: %s%n", sc, i, trials, s.ok()
                        ? String.format(java.util.Locale.ROOT, "%s -> %s new command %.1f ms, leaked %d", s.oldMaster(), s.newMaster(),
                                s.toNewCommandMillis(), s.leaked())
                        : "NOT MEASURED: " + s.note());
            }
        } catch (Exception | AssertionError e) {
            error = e.toString();
            System.out.println("bench: keepalived " + sc + " stopped early: " + e);
        } finally {
            if (c != null) {
                strays = c.strays;
                restarted = c.restarted;
                List<Overlaps.Interval> all = Overlaps.of(c.observer.runs(), System.nanoTime());
                c.close();
                // attribute each overlap to the trial in whose window it began
                List<Sample> withOverlaps = new ArrayList<>();
                for (int k = 0; k < samples.size(); k++) {
                    Sample s = samples.get(k);
                    long to = k + 1 < windows.size() ? windows.get(k + 1)[0] : Long.MAX_VALUE;
                    List<Overlaps.Interval> mine = Overlaps.within(all, windows.get(k)[0], to);
                    withOverlaps.add(new Sample(s.scenario(), s.trial(), s.oldMaster(), s.newMaster(), s.toNewCommandMillis(), mine.size(),
                            Overlaps.totalMillis(mine), s.leaked(), s.ok(), s.note()));
                }
                samples = withOverlaps;
            }
        }
        return new Result(sc, samples, strays, restarted, error);
    }

    private Sample trial(Cluster c, Scenario sc, int trial) throws Exception {
        steady(c);
        Thread.sleep(300 + random.nextInt(1000));
        String old = steady(c);
        int idx = Integer.parseInt(old.substring(1));
        long vrrp = c.vrrpPid(idx);
        long t0 = System.nanoTime();
        Instant i0 = Instant.now();
        long faultMicros = i0.getEpochSecond() * 1_000_000L + i0.getNano() / 1000;
        long resumeNanos = -1;
        switch (sc) {
            case KILL_RESTART, KILL -> signal(vrrp, Signals.SIGKILL);
            case SIGSTOP -> signal(vrrp, Signals.SIGSTOP);
            default -> throw new IllegalStateException("unknown scenario " + sc);
        }
        if (sc == Scenario.KILL_RESTART) {
            // the parent exits when its child dies (--dont-respawn); systemd would start the unit again 100 ms after the kill
            Process parent = c.parents[idx - 1];
            parent.waitFor(2, TimeUnit.SECONDS);
            long wait = t0 + 100_000_000L - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            c.start(idx);
        }
        CommandObserver.Run[] next = new CommandObserver.Run[1];
        String note = "";
        try {
            LocalCluster.await(() -> {
                for (CommandObserver.Run r : c.observer.runs()) {
                    if (r.startEpochMicros() >= faultMicros && (next[0] == null || r.startEpochMicros() < next[0].startEpochMicros())) next[0] = r;
                }
                return next[0] != null;
            }, FAILOVER, "a new command after " + sc);
        } catch (AssertionError e) {
            note = e.getMessage();
        }
        if (sc == Scenario.SIGSTOP) {
            long wait = t0 + FREEZE_MILLIS * 1_000_000L - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            signal(vrrp, Signals.SIGCONT);
            resumeNanos = System.nanoTime();
        }
        // leaked: alive 1 s after the new command started (and 1 s after SIGCONT) with no working master above
        long checkAt = Math.max(next[0] == null ? t0 : next[0].firstSeenNanos(), resumeNanos) + 1_000_000_000L;
        long wait = checkAt - System.nanoTime();
        if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        int leaked = 0;
        for (CommandObserver.Run r : c.observer.running()) if (!c.masterAbove(r.node())) leaked++;
        Sample s = next[0] == null
                ? new Sample(sc, trial, old, null, Double.NaN, 0, 0, leaked, false, note)
                : new Sample(sc, trial, old, next[0].node(), (next[0].startEpochMicros() - faultMicros) / 1000.0, 0, 0, leaked, true, note);
        if (sc == Scenario.KILL) {
            c.parents[idx - 1].waitFor(2, TimeUnit.SECONDS);
            c.start(idx);
        }
        return s;
    }

    /** Three instances at rest: CPU (parent + VRRP child) over the window, RSS of both at its end. */
    RestResult rest(Duration settle, Duration window) throws IOException {
        Path dir = Files.createDirectories(work.resolve("keepalived-rest"));
        List<Rest> out = new ArrayList<>();
        Cluster c = null;
        try {
            c = new Cluster(dir);
            for (int i = 1; i <= 3; i++) c.start(i);
            steady(c);
            Thread.sleep(settle.toMillis());
            long[][] pids = new long[3][];
            long[] t0 = new long[3];
            for (int i = 1; i <= 3; i++) {
                pids[i - 1] = new long[] {c.parents[i - 1].pid(), c.vrrpPid(i)};
                t0[i - 1] = cpuNanos(pids[i - 1][0]) + cpuNanos(pids[i - 1][1]);
            }
            long w0 = System.nanoTime();
            Thread.sleep(window.toMillis());
            double secs = (System.nanoTime() - w0) / 1e9;
            Map<String, String> st = c.vrrpStates();
            for (int i = 1; i <= 3; i++) {
                long ns = cpuNanos(pids[i - 1][0]) + cpuNanos(pids[i - 1][1]) - t0[i - 1];
                long pr = OverheadBench.rssKiB(pids[i - 1][0]);
                long vr = OverheadBench.rssKiB(pids[i - 1][1]);
                out.add(new Rest("n" + i, st.get("n" + i), 100.0 * ns / 1e9 / secs, pr + vr, pr, vr));
            }
            System.out.printf("bench: keepalived at rest measured over %.1f s%n", secs);
            return new RestResult(secs, out, null);
        } catch (Exception | AssertionError e) {
            System.out.println("bench: keepalived at rest failed: " + e);
            return new RestResult(window.toSeconds(), out, e.toString());
        } finally {
            if (c != null) c.close();
        }
    }

    /**
     * CPU time of a single-threaded process in ns (/proc/PID/schedstat's first field): keepalived
     * uses far less than one 10 ms tick per second, which /proc/PID/stat would round away.
     */
    static long cpuNanos(long pid) throws IOException {
        String f = Files.readString(Path.of("/proc", Long.toString(pid), "schedstat"), StandardCharsets.US_ASCII).trim();
        return Long.parseLong(f.split(" ")[0]);
    }

    private static void signal(long pid, int sig) throws IOException {
        if (pid <= 0) throw new IOException("no VRRP process to signal");
        Signals.Delivery d = Signals.kill((int) pid, sig);
        if (d != Signals.Delivery.SENT) throw new IOException("signal " + sig + " to VRRP pid " + pid + ": " + d);
    }
}
