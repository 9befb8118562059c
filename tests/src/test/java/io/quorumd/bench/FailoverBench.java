package io.quorumd.bench;

import io.quorumd.command.Signals;
import io.quorumd.control.ControlClient;
import io.quorumd.control.Reply;
import io.quorumd.it.CommandObserver;
import io.quorumd.it.local.LocalCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Fail-over of real agents (3 JVMs, default timings, stop_timeout 1 s). Each trial waits for a
 * steady cluster (one master running its command, both followers following it), waits a random
 * 0.3-1.3 s so the fault lands at any phase of the heartbeat, injects the fault and measures:
 * <ul>
 *   <li>to the next master's command running: the new command's own first line records
 *       {@code EPOCHREALTIME} (no fork before it), compared with the fault's real-time instant
 *       taken just before the signal or request; the observer's first sight of the group in
 *       /proc is kept too, as a cross-check;</li>
 *   <li>to the old command's death: the first poll of /proc (every 2 ms) that finds its
 *       process group empty, against the fault's monotonic instant.</li>
 * </ul>
 * Then it undoes the fault (restart, SIGCONT, link up) and goes on.
 */
final class FailoverBench {
    static final String STOP_TIMEOUT = "1s";
    static final Duration STEADY = Duration.ofSeconds(40);
    static final Duration FAILOVER = Duration.ofSeconds(20);

    enum Scenario {
        KILL_RESTART("kill -9 of the master agent, restarted after 100 ms", "p99 < 500 ms"),
        KILL("kill -9 of the master agent, not restarted", "<= lease + stop_timeout + 100 ms"),
        SIGSTOP("SIGSTOP of the master agent (SIGCONT after the fail-over)", "<= lease + stop_timeout + 100 ms"),
        CUT_OFF("master's host cut off (netns link down)", "<= lease + stop_timeout + 100 ms"),
        STEP_DOWN("quorumd step-down (control socket request)", "p99 < 50 ms + command stop time"),
        SIGTERM("SIGTERM of the master agent (systemctl stop)", "p99 < 50 ms + command stop time");

        final String what;
        final String target;

        Scenario(String what, String target) {
            this.what = what;
            this.target = target;
        }
    }

    /** One trial. Times in ms (fractional), NaN when not measured. */
    record Sample(Scenario scenario, int trial, String oldMaster, long oldTerm, String newMaster, long newTerm,
                  double toNewCommandMillis, double toNewSeenMillis, double toOldDeadMillis, double gapMillis, boolean ok, String note,
                  int leaked, Map<String, Double> milestones, String clearedBy) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("scenario", scenario.name());
            m.put("trial", trial);
            m.put("old_master", oldMaster);
            m.put("old_term", oldTerm);
            m.put("new_master", newMaster);
            m.put("new_term", newTerm);
            m.put("to_new_command_ms", num(toNewCommandMillis));
            m.put("to_new_group_seen_ms", num(toNewSeenMillis));
            m.put("to_old_group_empty_ms", num(toOldDeadMillis));
            m.put("old_end_to_new_start_ms", num(gapMillis));
            m.put("ok", ok);
            m.put("note", note);
            m.put("leaked", leaked);
            if (milestones != null && !milestones.isEmpty()) {
                // kill -9 + restart, step-down, SIGTERM: ms after the fault, from the agents' logs (see Breakdown)
                Map<String, Object> b = new LinkedHashMap<>();
                for (Map.Entry<String, Double> e : milestones.entrySet()) b.put(e.getKey(), num(e.getValue()));
                m.put("milestones_ms", b);
                m.put("cleared_by", clearedBy);
            }
            return m;
        }
    }

    static Object num(double d) {
        return Double.isNaN(d) ? null : Math.round(d * 1000) / 1000.0;
    }

    /**
     * Result of one scenario: samples, overlaps seen by the observer (each poll that saw two groups
     * alive, and the same as intervals: {@link Overlaps}), and the cluster's dir.
     */
    record Result(Scenario scenario, List<Sample> samples, List<String> overlaps, List<Overlaps.Interval> overlapIntervals, Path dir,
                  String error) {}

    private final Path work;
    private final boolean curve;
    private final int trials;
    private final SplittableRandom random;

    private final String logLevel;

    /** @param curve CURVE on every cluster socket (the normal set-up), or trusted mode */
    FailoverBench(Path work, int trials, long seed, String logLevel, boolean curve) {
        this.curve = curve;
        this.work = work;
        this.logLevel = logLevel;
        this.trials = trials;
        this.random = new SplittableRandom(seed);
    }

    Result run(Scenario sc) throws IOException {
        Path dir = Files.createDirectories(work.resolve("failover-" + sc.name().toLowerCase() + (curve ? "-curve" : "-trusted")));
        List<Sample> samples = new ArrayList<>();
        NetNs ns = null;
        LocalCluster cluster = null;
        String error = null;
        List<String> overlaps = List.of();
        List<Overlaps.Interval> intervals = List.of();
        try {
            List<LocalCluster.Placement> where;
            if (sc == Scenario.CUT_OFF) {
                ns = new NetNs(3);
                where = ns.placements();
            } else {
                where = LocalCluster.loopback(3);
            }
            cluster = new LocalCluster(dir, where, STOP_TIMEOUT, "", logLevel, curve);
            cluster.startAll();
            for (int i = 1; i <= trials; i++) {
                Sample s = trial(cluster, ns, sc, i);
                samples.add(s);
                System.out.printf("bench: %-11s trial %2d/%d: %s%n", sc, i, trials, brief(s));
            }
        } catch (Exception | AssertionError e) {
            error = e.toString();
            System.out.println("bench: " + sc + " stopped early: " + e);
            if (cluster != null) System.out.println(cluster.logs());
        } finally {
            if (cluster != null) {
                try {
                    cluster.close();
                } catch (AssertionError e) {
                    error = (error == null ? "" : error + "; ") + "at close: " + e.getMessage();
                } finally {
                    overlaps = cluster.observer.overlaps();
                    intervals = Overlaps.of(cluster.observer.runs(), System.nanoTime());
                }
            }
            if (ns != null) ns.close();
        }
        return new Result(sc, samples, overlaps, intervals, dir, error);
    }

    private static String brief(Sample s) {
        if (!s.ok()) return "NOT MEASURED: " + s.note();
        return String.format(java.util.Locale.ROOT, "%s@%d -> %s@%d new command %.1f ms (seen %.1f), old group empty %.1f ms%s",
                s.oldMaster(), s.oldTerm(), s.newMaster(), s.newTerm(), s.toNewCommandMillis(), s.toNewSeenMillis(), s.toOldDeadMillis(),
                s.note().isEmpty() ? "" : " (" + s.note() + ")");
    }

    /** Waits for one master running its command with every live node following it. */
    private static String steady(LocalCluster c) {
        String[] m = new String[1];
        LocalCluster.await(() -> {
            for (LocalCluster.Member x : c.members.values()) if (!x.alive() || x.paused) return false;
            String master = c.masterRunning();
            if (master == null) return false;
            for (String id : c.members.keySet()) {
                if (id.equals(master)) continue;
                Map<String, Object> s = c.status(id);
                if (s == null || !"follower".equals(LocalCluster.role(s)) || !master.equals(s.get("master"))) return false;
            }
            List<CommandObserver.Run> running = c.observer.running();
            if (running.size() != 1 || !running.get(0).node().equals(master)) return false;
            m[0] = master;
            return true;
        }, STEADY, "a steady cluster (one master running its command, every node following it)");
        return m[0];
    }

    private Sample trial(LocalCluster c, NetNs ns, Scenario sc, int trial) throws Exception {
        steady(c);
        Thread.sleep(300 + random.nextInt(1000));
        String old = steady(c);
        LocalCluster.Member m = c.member(old);
        List<CommandObserver.Run> running = c.observer.running();
        CommandObserver.Run oldRun = running.get(0);
        long oldTerm = oldRun.term();
        int pid = (int) m.pid();

        // SIGTERM: when the old agent's JVM is gone (the breakdown's old_jvm_exit)
        java.util.concurrent.atomic.AtomicLong exitEpochMicros = new java.util.concurrent.atomic.AtomicLong(-1);
        if (sc == Scenario.SIGTERM) {
            m.process.onExit().thenRun(() -> {
                Instant x = Instant.now();
                exitEpochMicros.set(x.getEpochSecond() * 1_000_000L + x.getNano() / 1000);
            });
        }
        long t0 = System.nanoTime();
        Instant i0 = Instant.now();
        long faultEpochMicros = i0.getEpochSecond() * 1_000_000L + i0.getNano() / 1000;
        String note = "";
        switch (sc) {
            case KILL_RESTART, KILL -> signal(pid, Signals.SIGKILL);
            case SIGSTOP -> {
                signal(pid, Signals.SIGSTOP);
                m.paused = true;
            }
            case SIGTERM -> signal(pid, Signals.SIGTERM);
            case CUT_OFF -> ns.cut(index(old));
            case STEP_DOWN -> {
                Reply r = ControlClient.call(m.socket, "step-down", Duration.ofSeconds(10));
                if (r.exitCode() != 0) note = "step-down answered " + r.exitCode() + ": " + r.body().trim();
            }
            default -> throw new IllegalStateException("unknown scenario " + sc);
        }
        long spawnedEpochMicros = -1;
        if (sc == Scenario.KILL_RESTART) {
            // systemd's RestartSec=100ms: the supervisor starts the agent again 100 ms after its death
            long wait = t0 + 100_000_000L - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            c.start(old);
            Instant sp = Instant.now();
            spawnedEpochMicros = sp.getEpochSecond() * 1_000_000L + sp.getNano() / 1000;
        }
        CommandObserver.Run[] next = new CommandObserver.Run[1];
        boolean done;
        try {
            LocalCluster.await(() -> {
                if (c.observer.latest(oldRun).running()) return false;
                for (CommandObserver.Run r : c.observer.runs()) {
                    if (r.term() > oldTerm && r.startEpochMicros() >= 0) {
                        next[0] = r;
                        return true;
                    }
                }
                return false;
            }, FAILOVER, "a new master's command after " + sc);
            done = true;
        } catch (AssertionError e) {
            done = false;
            note = e.getMessage();
        }
        long oldEnd = c.observer.latest(oldRun).goneNanos();
        Sample s;
        if (done) {
            CommandObserver.Run r = next[0];
            double toNew = (r.startEpochMicros() - faultEpochMicros) / 1000.0;
            double seen = (r.firstSeenNanos() - t0) / 1e6;
            double dead = (oldEnd - t0) / 1e6;
            // observer times are polls: the group was empty somewhen in the 2 ms before goneNanos
            double gap = (r.firstSeenNanos() - oldEnd) / 1e6;
            // leaked: a command alive 1 s after the new one started on a node whose agent is dead,
            // stopped or not master (the same check as keepalived's, KeepalivedBench)
            long wait = r.firstSeenNanos() + 1_000_000_000L - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            int leaked = 0;
            for (CommandObserver.Run x : c.observer.running()) {
                if (x.id().equals(r.id())) continue;
                LocalCluster.Member owner = c.member(x.node());
                if (!owner.alive() || owner.paused || !"master".equals(LocalCluster.role(c.status(x.node())))) leaked++;
            }
            Map<String, Double> milestones = Map.of();
            String clearedBy = "";
            if (sc == Scenario.KILL_RESTART) {
                Map<String, Path> logs = new LinkedHashMap<>();
                for (String id : c.members.keySet()) logs.put(id, c.log(id));
                milestones = Breakdown.of(faultEpochMicros, spawnedEpochMicros, r.startEpochMicros(), old, r.node(), r.term(), logs);
                clearedBy = Breakdown.clearedBy(r.node(), r.term(), logs, faultEpochMicros);
                System.out.println("bench: " + sc + " trial " + trial + " milestones (ms after the kill): " + Breakdown.brief(milestones)
                        + "; cleared by " + clearedBy);
            } else if (sc == Scenario.STEP_DOWN || sc == Scenario.SIGTERM) {
                if (sc == Scenario.SIGTERM) {
                    LocalCluster.await(() -> exitEpochMicros.get() >= 0, Duration.ofSeconds(10), old + " to exit after SIGTERM");
                }
                Map<String, Path> logs = new LinkedHashMap<>();
                for (String id : c.members.keySet()) logs.put(id, c.log(id));
                milestones = Breakdown.handOver(faultEpochMicros, r.startEpochMicros(), dead, exitEpochMicros.get(), old, oldTerm,
                        r.node(), r.term(), logs);
                clearedBy = Breakdown.clearedBy(r.node(), r.term(), logs, faultEpochMicros);
                System.out.println("bench: " + sc + " trial " + trial + " milestones (ms after the fault): " + Breakdown.brief(milestones)
                        + "; cleared by " + clearedBy);
            }
            s = new Sample(sc, trial, old, oldTerm, r.node(), r.term(), toNew, seen, dead, gap, true, note, leaked, milestones, clearedBy);
        } else {
            s = new Sample(sc, trial, old, oldTerm, null, -1, Double.NaN, Double.NaN,
                    oldEnd < 0 ? Double.NaN : (oldEnd - t0) / 1e6, Double.NaN, false, note, 0, Map.of(), "");
        }
        recover(c, ns, sc, old);
        return s;
    }

    private static void recover(LocalCluster c, NetNs ns, Scenario sc, String old) throws Exception {
        LocalCluster.Member m = c.member(old);
        switch (sc) {
            case KILL_RESTART -> {
                if (!m.alive()) c.start(old);
            }
            case KILL -> {
                LocalCluster.await(() -> !m.process.isAlive(), Duration.ofSeconds(5), old + " to die");
                c.start(old);
            }
            case SIGTERM -> {
                LocalCluster.await(() -> !m.process.isAlive(), Duration.ofSeconds(10), old + " to exit after SIGTERM");
                c.start(old);
            }
            case SIGSTOP -> {
                signal((int) m.pid(), Signals.SIGCONT);
                m.paused = false;
            }
            case CUT_OFF -> ns.heal(index(old));
            case STEP_DOWN -> {
                // nothing to undo: the old master follows the new one
            }
            default -> throw new IllegalStateException("unknown scenario " + sc);
        }
    }

    private static int index(String id) {
        return Integer.parseInt(id.substring(1));
    }

    private static void signal(int pid, int sig) throws IOException {
        Signals.Delivery d = Signals.kill(pid, sig);
        if (d != Signals.Delivery.SENT) throw new IOException("signal " + sig + " to agent pid " + pid + ": " + d);
    }
}
