package io.quorumd.multihost;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Watches, from the host, every managed command of a cluster: "a command runs from its start
 * until its process group is empty, as seen by an observer outside it" (SPEC, How tests judge
 * exclusivity). A SIGKILLed command cannot log its own end, so the end comes from here.
 *
 * <p>One thread polls each node's {@code quorumd.service} cgroup (its {@code cgroup.procs},
 * read through the host's cgroup mount: containers share the host's kernel) every
 * {@link #TICK_NANOS}. A process that leads its own process group, runs the demo command (see
 * {@link #isCommand}: the agent's wrapper, still waiting for the agent's go, does not count) and
 * carries {@code QUORUMD_TERM} in its environment is a command; its run lasts while any live
 * (non-zombie) process of the unit is in that group. Times are
 * {@link System#nanoTime()} (CLOCK_MONOTONIC, shared with the containers). The demo command
 * also logs its own start (wall clock, microseconds) to {@code commands.log} in the shared
 * observe directory; that start is converted to the monotonic clock and used when it is earlier
 * than the first sighting.
 *
 * <p>Reading other users' {@code /proc/PID/environ} needs root, which the multi-host tests
 * require anyway (Docker).
 */
final class CommandObserver implements AutoCloseable {
    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final String MARKER = "quorumd-demo";

    /**
     * One run of the managed command; {@code goneNanos < 0} while it runs. {@code startNanos} is
     * the earlier of the first sighting and the self-logged start ({@code selfStartNanos}, or
     * -1 when the command did not log one).
     */
    record Run(String node, long hostPid, long nsPid, long term, long startNanos, long firstSeenNanos,
               long selfStartNanos, long lastSeenNanos, long goneNanos) {
        boolean running() {
            return goneNanos < 0;
        }

        /** The last instant it was certainly running (the end used for definite overlaps). */
        long endNanos(long nowNanos) {
            return running() ? nowNanos : lastSeenNanos;
        }

        @Override
        public String toString() {
            return node + "[pid " + hostPid + " term " + term + "]";
        }
    }

    private static final class Tracked {
        final String node;
        final long hostPid;
        final long nsPid;
        final long term;
        final long firstSeen;
        long lastSeen;
        long gone = -1;

        Tracked(String node, long hostPid, long nsPid, long term, long firstSeen) {
            this.node = node;
            this.hostPid = hostPid;
            this.nsPid = nsPid;
            this.term = term;
            this.firstSeen = firstSeen;
            this.lastSeen = firstSeen;
        }
    }

    private final Path commandsLog;
    private final long wallToMonoNanos;
    private final Map<String, List<Path>> procsCandidates = new LinkedHashMap<>();
    private final Map<String, Path> procsFound = new HashMap<>();
    private final List<Tracked> tracked = new ArrayList<>();
    /**
     * "pid starttime" -> first sighting, for group leaders of a unit that were not a command when seen (the
     * agent, its watchdog). A command's pid shows its marker once the spawn chain has exec'ed it,
     * within milliseconds; after {@link #SETTLE_NANOS} the pid is no longer re-read.
     */
    private final Map<String, Long> otherFirstSeen = new HashMap<>();
    private static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(2);
    private final Thread thread;
    private volatile boolean stop;
    private volatile String failure;
    private long ticks;
    private long slowTicks;

    CommandObserver(Path observeDir) {
        this.commandsLog = observeDir.resolve("commands.log");
        this.wallToMonoNanos = wallToMonoOffset();
        this.thread = new Thread(this::loop, "command-observer");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Watches a node whose container's first process has host pid {@code initPid}. The unit's
     * cgroup path contains the container id, so it stays valid across container restarts.
     */
    synchronized void watch(String node, long initPid) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(initPid), "cgroup"));
        List<Path> candidates = new ArrayList<>();
        for (String line : lines) {
            // hierarchy-id:controllers:path; v1 "name=systemd" or the v2 unified "0::"
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            String base = f[2].endsWith("/init.scope") ? f[2].substring(0, f[2].length() - "/init.scope".length()) : f[2];
            String unit = base + "/system.slice/quorumd.service/cgroup.procs";
            if (f[1].equals("name=systemd")) {
                candidates.add(Path.of("/sys/fs/cgroup/systemd" + unit));
            } else if (f[0].equals("0") && f[1].isEmpty()) {
                candidates.add(Path.of("/sys/fs/cgroup/unified" + unit));
                candidates.add(Path.of("/sys/fs/cgroup" + unit));
            }
        }
        if (candidates.isEmpty()) {
            throw new IOException("no systemd or unified cgroup in /proc/" + initPid + "/cgroup: " + lines);
        }
        procsCandidates.put(node, candidates);
        procsFound.remove(node);
    }

    /** Every run seen so far, in order of start. */
    synchronized List<Run> runs() {
        Map<String, Long> selfStarts = selfLoggedStarts();
        List<Run> out = new ArrayList<>();
        for (Tracked t : tracked) {
            Long self = selfStarts.get(t.node + " " + t.nsPid + " " + t.term);
            long start = self != null && self < t.firstSeen ? self : t.firstSeen;
            out.add(new Run(t.node, t.hostPid, t.nsPid, t.term, start, t.firstSeen, self == null ? -1 : self, t.lastSeen, t.gone));
        }
        out.sort((a, b) -> Long.compare(a.startNanos(), b.startNanos()));
        return out;
    }

    List<Run> live() {
        List<Run> out = new ArrayList<>();
        for (Run r : runs()) {
            if (r.running()) {
                out.add(r);
            }
        }
        return out;
    }

    Optional<Run> liveOn(String node) {
        for (Run r : live()) {
            if (r.node().equals(node)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** Fails the test if the polling thread died (then every observation would be stale). */
    void checkHealthy() {
        if (failure != null) {
            throw new AssertionError("command observer failed: " + failure);
        }
    }

    synchronized String stats() {
        return ticks + " ticks, " + slowTicks + " slower than " + TimeUnit.NANOSECONDS.toMillis(2 * TICK_NANOS) + " ms";
    }

    long wallMicrosToMono(long epochMicros) {
        return epochMicros * 1000 + wallToMonoNanos;
    }

    @Override
    public void close() {
        stop = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        long last = System.nanoTime();
        while (!stop) {
            try {
                tick();
            } catch (RuntimeException | IOException e) {
                failure = e.toString();
                return;
            }
            long now = System.nanoTime();
            synchronized (this) {
                ticks++;
                if (now - last > 2 * TICK_NANOS) {
                    slowTicks++;
                }
            }
            last = now;
            long sleep = TICK_NANOS - (System.nanoTime() - now);
            if (sleep > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(sleep);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private synchronized void tick() throws IOException {
        for (Map.Entry<String, List<Path>> e : procsCandidates.entrySet()) {
            String node = e.getKey();
            List<Long> pids = unitPids(node, e.getValue());
            long now = System.nanoTime();
            Set<Long> liveGroups = new HashSet<>();
            for (long pid : pids) {
                String stat = readOrNull(Path.of("/proc", Long.toString(pid), "stat"));
                if (stat == null) {
                    continue;
                }
                // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ')'
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                char state = f[0].charAt(0);
                if (state == 'Z' || state == 'X') {
                    continue;
                }
                long pgrp = Long.parseLong(f[2]);
                liveGroups.add(pgrp);
                if (pgrp == pid && !isTracked(node, pid)) {
                    // field 22, starttime: with the pid it names one process even if pids wrap
                    considerCommand(node, pid, pid + " " + f[19], now);
                }
            }
            for (Tracked t : tracked) {
                if (!t.node.equals(node) || t.gone >= 0) {
                    continue;
                }
                if (liveGroups.contains(t.hostPid)) {
                    t.lastSeen = now;
                } else {
                    t.gone = now;
                }
            }
        }
    }

    private boolean isTracked(String node, long pid) {
        for (Tracked t : tracked) {
            if (t.node.equals(node) && t.hostPid == pid && t.gone < 0) {
                return true;
            }
        }
        return false;
    }

    private void considerCommand(String node, long pid, String identity, long now) {
        Long otherSince = otherFirstSeen.get(identity);
        if (otherSince != null && now - otherSince > SETTLE_NANOS) {
            return;
        }
        String cmdline = readOrNull(Path.of("/proc", Long.toString(pid), "cmdline"));
        if (cmdline == null) {
            return;
        }
        if (!isCommand(cmdline.split("\0"))) {
            // the agent's wrapper names the command among its arguments and may wait for the
            // agent's go for a while: keep re-reading it until it has exec'ed the command
            if (otherSince == null && !cmdline.contains(MARKER)) {
                otherFirstSeen.put(identity, now);
            }
            return;
        }
        otherFirstSeen.remove(identity);
        String environ = readOrNull(Path.of("/proc", Long.toString(pid), "environ"));
        String status = readOrNull(Path.of("/proc", Long.toString(pid), "status"));
        if (environ == null || status == null) {
            return;
        }
        long term = -1;
        for (String kv : environ.split("\0")) {
            if (kv.startsWith("QUORUMD_TERM=")) {
                term = Long.parseLong(kv.substring("QUORUMD_TERM=".length()).trim());
            }
        }
        if (term < 0) {
            return;
        }
        long nsPid = pid;
        for (String line : status.split("\n")) {
            if (line.startsWith("NSpid:")) {
                String[] p = line.substring(6).trim().split("\\s+");
                nsPid = Long.parseLong(p[p.length - 1]);
            }
        }
        tracked.add(new Tracked(node, pid, nsPid, term, now));
    }

    /**
     * The demo command itself, not the agent's wrapper that will exec it: {@code bash
     * /usr/local/bin/quorumd-demo} (the script) or {@code quorumd-demo infinity} (its exec).
     */
    static boolean isCommand(String[] argv) {
        if (argv.length == 0) {
            return false;
        }
        if (argv[0].equals(MARKER)) {
            return true;
        }
        return argv.length >= 2 && argv[0].endsWith("bash") && argv[1].endsWith("/" + MARKER);
    }

    private List<Long> unitPids(String node, List<Path> candidates) {
        Path found = procsFound.get(node);
        if (found == null || !Files.exists(found)) {
            found = null;
            for (Path c : candidates) {
                if (Files.exists(c)) {
                    found = c;
                    procsFound.put(node, c);
                    break;
                }
            }
        }
        List<Long> pids = new ArrayList<>();
        if (found == null) {
            return pids;
        }
        String text = readOrNull(found);
        if (text == null) {
            return pids;
        }
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                pids.add(Long.parseLong(line.trim()));
            }
        }
        return pids;
    }

    /** "node nsPid term" -> self-logged start on the monotonic clock. */
    private Map<String, Long> selfLoggedStarts() {
        Map<String, Long> starts = new HashMap<>();
        String log = readOrNull(commandsLog);
        if (log == null) {
            return starts;
        }
        for (String line : log.split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length == 5 && f[0].equals("start")) {
                try {
                    starts.put(f[1] + " " + f[4] + " " + f[2], wallMicrosToMono(Long.parseLong(f[3])));
                } catch (NumberFormatException e) {
                    // a line torn by a crash mid-write: the first sighting still gives the start
                }
            }
        }
        return starts;
    }

    private static String readOrNull(Path p) {
        try {
            return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            // ESRCH and friends: the process went away between listing and reading
            return null;
        }
    }

    /**
     * CLOCK_MONOTONIC minus CLOCK_REALTIME, in nanoseconds. Both clocks are slewed alike by NTP,
     * so the offset only changes when the wall clock is stepped. The sample with the tightest
     * bracket wins.
     */
    private static long wallToMonoOffset() {
        long best = Long.MAX_VALUE;
        long offset = 0;
        for (int i = 0; i < 50; i++) {
            long before = System.nanoTime();
            Instant wall = Instant.now();
            long after = System.nanoTime();
            if (after - before < best) {
                best = after - before;
                long wallNanos = wall.getEpochSecond() * 1_000_000_000L + wall.getNano();
                offset = (before + after) / 2 - wallNanos;
            }
        }
        return offset;
    }
}
