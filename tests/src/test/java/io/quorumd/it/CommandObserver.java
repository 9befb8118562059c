package io.quorumd.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Watches the managed commands from outside, as SPEC's "How tests judge exclusivity" says: a
 * command runs from its start until its process group is empty, as seen by an observer outside
 * it. A SIGKILLed command cannot log its own end, so the end comes from here. One thread polls
 * every {@link #tickNanos()}; times are {@link System#nanoTime()} (CLOCK_MONOTONIC, which
 * containers share with the host).
 *
 * <p>Two ways to find the commands, one way to judge them (a run lasts while any live, non-zombie
 * process is in its group):
 * <ul>
 *   <li>{@link #ofRunDirectory}: agents on this host (the process tests, the benchmark). Each
 *       command registers itself by writing {@code cmd-NODE-TERM-PGID} into the run directory,
 *       its content the start time as bash's {@code EPOCHREALTIME}; every process of the host
 *       is looked at.</li>
 *   <li>{@link #ofUnits}: agents in containers (the multi-host tests). Only the processes of each
 *       {@link #watch watched} node's {@code quorumd.service} cgroup are looked at (read through
 *       the host's cgroup mount). A process that leads its own group, runs the demo command (see
 *       {@link #isCommand}: the agent's wrapper, still waiting for the agent's go, does not count)
 *       and carries {@code QUORUMD_TERM} in its environment is a command. The demo command logs
 *       its own start (wall clock, microseconds) to {@code commands.log} in the observe
 *       directory. Reading other users' {@code /proc/PID/environ} needs root, which the
 *       multi-host tests require anyway (Docker).</li>
 * </ul>
 * A self-logged start is converted to the monotonic clock and used when it is earlier than the
 * first sighting. Every poll also notes when more than one command group is alive at once
 * ({@link #overlaps}).
 */
public final class CommandObserver implements AutoCloseable {
    private static final String MARKER = "quorumd-demo";
    /**
     * "pid starttime" of a unit's group leader that was not a command when first seen (the agent,
     * its watchdog): after this long it is no longer re-read. A command's pid shows its marker once
     * the spawn chain has exec'ed it, within milliseconds.
     */
    private static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(2);

    /**
     * One run of the managed command; {@code goneNanos < 0} while it runs. {@code startNanos} is
     * the earlier of the first sighting and the self-logged start ({@code selfStartNanos}, or -1
     * when the command did not log one, or not yet; {@code startEpochMicros} is the same start on
     * the wall clock).
     *
     * @param hostPid the command's pid in the host's pid namespace, which is its process group id
     * @param nsPid   its pid as the agent sees it (in a container's namespace); {@code hostPid} on this host
     */
    public record Run(String node, long hostPid, long nsPid, long term, long startNanos, long firstSeenNanos,
                      long selfStartNanos, long startEpochMicros, long lastSeenNanos, long goneNanos) {
        public boolean running() {
            return goneNanos < 0;
        }

        /** The last instant it was certainly running (the end used for definite overlaps). */
        public long endNanos(long nowNanos) {
            return running() ? nowNanos : lastSeenNanos;
        }

        /** The same run however long it has been watched since: node, term and group. */
        public String id() {
            return node + " " + term + " " + hostPid;
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
        /** The registration file ({@link #ofRunDirectory}), or null. */
        final Path file;
        long lastSeen;
        long gone = -1;
        long startEpochMicros = -1;

        Tracked(String node, long hostPid, long nsPid, long term, long firstSeen, Path file) {
            this.node = node;
            this.hostPid = hostPid;
            this.nsPid = nsPid;
            this.term = term;
            this.firstSeen = firstSeen;
            this.file = file;
            this.lastSeen = firstSeen;
        }

        boolean running() {
            return gone < 0;
        }

        @Override
        public String toString() {
            return node + "[pid " + hostPid + " term " + term + "]";
        }
    }

    /** The run directory ({@link #ofRunDirectory}) or null. */
    private final Path runDir;
    /** {@code commands.log} ({@link #ofUnits}) or null. */
    private final Path commandsLog;
    private final long tickNanos;
    private final long wallToMonoNanos;
    private final Map<String, List<Path>> procsCandidates = new LinkedHashMap<>();
    private final Map<String, Path> procsFound = new HashMap<>();
    private final Map<String, Long> otherFirstSeen = new HashMap<>();
    private final Set<String> registered = new HashSet<>();
    private final List<Tracked> tracked = new ArrayList<>();
    private final List<String> overlaps = new ArrayList<>();
    private final Thread thread;
    private volatile boolean stop;
    private volatile String failure;
    private long polls;
    private long slowPolls;

    private CommandObserver(Path runDir, Path commandsLog, long tickNanos) {
        this.runDir = runDir;
        this.commandsLog = commandsLog;
        this.tickNanos = tickNanos;
        this.wallToMonoNanos = wallToMonoOffset();
        this.thread = new Thread(this::loop, "command-observer");
        thread.setDaemon(true);
    }

    /** Commands of agents on this host that register in {@code dir}; polled every 2 ms. */
    public static CommandObserver ofRunDirectory(Path dir) {
        CommandObserver o = new CommandObserver(dir, null, TimeUnit.MILLISECONDS.toNanos(2));
        o.thread.start();
        return o;
    }

    /**
     * Commands of the units {@link #watch watched} later, with their self-logged starts in
     * {@code observeDir/commands.log}; polled every 5 ms.
     */
    public static CommandObserver ofUnits(Path observeDir) {
        CommandObserver o = new CommandObserver(null, observeDir.resolve("commands.log"), TimeUnit.MILLISECONDS.toNanos(5));
        o.thread.start();
        return o;
    }

    public long tickNanos() {
        return tickNanos;
    }

    /**
     * Watches a node whose container's first process has host pid {@code initPid}. The unit's
     * cgroup path contains the container id, so it stays valid across container restarts.
     */
    public synchronized void watch(String node, long initPid) throws IOException {
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
    public synchronized List<Run> runs() {
        Map<String, Long> logged = selfLoggedStartMicros();
        List<Run> out = new ArrayList<>();
        for (Tracked t : tracked) {
            Long micros = t.file != null ? (t.startEpochMicros >= 0 ? Long.valueOf(t.startEpochMicros) : null)
                    : logged.get(t.node + " " + t.nsPid + " " + t.term);
            long self = micros == null ? -1 : wallMicrosToMono(micros);
            long start = self >= 0 && self < t.firstSeen ? self : t.firstSeen;
            out.add(new Run(t.node, t.hostPid, t.nsPid, t.term, start, t.firstSeen, self, micros == null ? -1 : micros,
                    t.lastSeen, t.gone));
        }
        out.sort((a, b) -> Long.compare(a.startNanos(), b.startNanos()));
        return out;
    }

    /** The runs alive now (polls once more first). */
    public List<Run> running() {
        poll();
        List<Run> out = new ArrayList<>();
        for (Run r : runs()) {
            if (r.running()) {
                out.add(r);
            }
        }
        return out;
    }

    /** {@code r} as it is now (its end may have been seen since), or null if this observer never saw it. */
    public Run latest(Run r) {
        for (Run x : runs()) {
            if (x.id().equals(r.id())) {
                return x;
            }
        }
        return null;
    }

    public Optional<Run> runningOn(String node) {
        for (Run r : running()) {
            if (r.node().equals(node)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** Each poll that found more than one command group alive. */
    /**
     * For a failed wait: every watched node's group leaders as this observer judges them now
     * (pid, whether tracked as a command, settled as "not a command", and the command line), and
     * every run it tracks.
     */
    public synchronized String describe() {
        StringBuilder b = new StringBuilder("observer: " + stats() + (failure == null ? "" : "; its thread failed: " + failure) + "\n");
        long now = System.nanoTime();
        for (Map.Entry<String, List<Path>> e : procsCandidates.entrySet()) {
            String node = e.getKey();
            b.append("  ").append(node).append(" unit ").append(procsFound.get(node)).append('\n');
            for (long pid : unitPids(node, e.getValue())) {
                String[] f = stat(pid);
                if (f == null) continue;
                String identity = pid + " " + f[19];
                Long other = otherFirstSeen.get(identity);
                String cmd = readOrNull(Path.of("/proc", Long.toString(pid), "cmdline"));
                b.append("    pid ").append(pid).append(" pgrp ").append(f[2]).append(" state ").append(f[0])
                        .append(isTracked(node, pid) ? " tracked" : "")
                        .append(other == null ? "" : " not-a-command since " + (now - other) / 1_000_000 + " ms")
                        .append(": ").append(cmd == null ? "(gone)" : cmd.replace('\0', ' ').trim()).append('\n');
            }
        }
        for (Run r : runs()) b.append("  run ").append(r).append('\n');
        return b.toString();
    }

    public synchronized List<String> overlaps() {
        return List.copyOf(overlaps);
    }

    /** Fails the test if the polling thread died (then every observation would be stale). */
    public void checkHealthy() {
        if (failure != null) {
            throw new AssertionError("command observer failed: " + failure);
        }
    }

    public synchronized long polls() {
        return polls;
    }

    public synchronized String stats() {
        return polls + " polls, " + slowPolls + " slower than " + TimeUnit.NANOSECONDS.toMillis(2 * tickNanos) + " ms";
    }

    public long wallMicrosToMono(long epochMicros) {
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
                poll();
            } catch (RuntimeException e) {
                failure = e.toString();
                return;
            }
            long now = System.nanoTime();
            synchronized (this) {
                if (now - last > 2 * tickNanos) {
                    slowPolls++;
                }
            }
            last = now;
            long sleep = tickNanos - (System.nanoTime() - now);
            if (sleep > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(sleep);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private synchronized void poll() {
        long now = System.nanoTime();
        Set<Long> liveGroups = runDir != null ? registrations(now) : units(now);
        List<Tracked> running = new ArrayList<>();
        for (Tracked t : tracked) {
            if (!t.running()) {
                continue;
            }
            if (liveGroups.contains(t.hostPid)) {
                t.lastSeen = now;
                running.add(t);
            } else {
                t.gone = now;
            }
        }
        if (running.size() > 1) {
            overlaps.add("at poll " + polls + ": " + running + " alive at once");
        }
        polls++;
    }

    /** New {@code cmd-*} registrations, starts read from them; returns the live groups of the host. */
    private Set<Long> registrations(long now) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(runDir, "cmd-*")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (registered.contains(name)) {
                    continue;
                }
                String[] f = name.split("-");
                // cmd-NODE-TERM-PGID, where NODE may contain dashes
                long pgid = Long.parseLong(f[f.length - 1]);
                long term = Long.parseLong(f[f.length - 2]);
                String node = String.join("-", Arrays.copyOfRange(f, 1, f.length - 2));
                registered.add(name);
                tracked.add(new Tracked(node, pgid, pgid, term, now, p));
            }
        } catch (IOException | RuntimeException e) {
            // a half-written name: next poll
        }
        // /proc is read after the registrations: a command that registered has existed since before
        // this read began. Read before them, a command that started during the read (its PID missed)
        // and registered just after it was taken as ended at once, and never seen again.
        Set<Long> alive = liveGroups(allPids());
        for (Tracked t : tracked) {
            if (t.startEpochMicros < 0) {
                String text = readOrNull(t.file);
                t.startEpochMicros = text == null ? -1 : epochRealtimeMicros(text.trim());
            }
        }
        // /proc is read after the directory: a command registers itself while alive, so every
        // registration listed above was alive before this scan began (read before the listing, a
        // command that started between the two was taken for one that had already ended)
        return liveGroups(allPids());
    }

    /** New commands in the watched units; returns the live groups among the units' processes. */
    private Set<Long> units(long now) {
        Set<Long> alive = new HashSet<>();
        for (Map.Entry<String, List<Path>> e : procsCandidates.entrySet()) {
            String node = e.getKey();
            for (long pid : unitPids(node, e.getValue())) {
                String[] f = stat(pid);
                if (f == null) {
                    continue;
                }
                long pgrp = Long.parseLong(f[2]);
                alive.add(pgrp);
                if (pgrp == pid && !isTracked(node, pid)) {
                    // field 22, starttime: with the pid it names one process even if pids wrap
                    considerCommand(node, pid, pid + " " + f[19], now);
                }
            }
        }
        return alive;
    }

    /**
     * The fields of {@code /proc/PID/stat} after the command name (state first, then ppid, pgrp,
     * ...), or null for a process that is gone, a zombie or dead.
     */
    private static String[] stat(long pid) {
        String stat = readOrNull(Path.of("/proc", Long.toString(pid), "stat"));
        if (stat == null) {
            return null;
        }
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ')'
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return null;
        }
        String[] f = stat.substring(close + 2).split(" ");
        if (f.length < 20 || f[0].equals("Z") || f[0].equals("X")) {
            return null;
        }
        return f;
    }

    /** Process groups with at least one member among {@code pids} that is not a zombie. */
    private static Set<Long> liveGroups(List<Long> pids) {
        Set<Long> s = new HashSet<>();
        for (long pid : pids) {
            String[] f = stat(pid);
            if (f != null) {
                s.add(Long.parseLong(f[2]));
            }
        }
        return s;
    }

    private static List<Long> allPids() {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.isEmpty() && n.chars().allMatch(Character::isDigit)) {
                    pids.add(Long.parseLong(n));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc", e);
        }
        return pids;
    }

    private boolean isTracked(String node, long pid) {
        for (Tracked t : tracked) {
            if (t.node.equals(node) && t.hostPid == pid && t.running()) {
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
            if (otherSince == null && settlesAsOther(cmdline)) {
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
        tracked.add(new Tracked(node, pid, nsPid, term, now, null));
    }

    /**
     * Whether a group leader that is not the command, with this {@code /proc/PID/cmdline}, may be
     * taken for something else for good (and no longer re-read after a while). Not the agent's
     * wrapper, which names the command among its arguments and may wait for the agent's go for
     * seconds (a parked one, for as long as its node follows). And not an empty command line:
     * the kernel shows one while a process is inside execve (the new image's arguments are not
     * mapped yet), and a parked wrapper read every poll was caught there, as it exec'ed the
     * command, often enough to fail two CI runs (the command then went unseen for good).
     */
    static boolean settlesAsOther(String cmdline) {
        return !cmdline.isEmpty() && !cmdline.contains(MARKER);
    }

    /**
     * The demo command itself, not the agent's wrapper that will exec it: {@code bash
     * /usr/local/bin/quorumd-demo} (the script) or {@code quorumd-demo infinity} (its exec).
     */
    public static boolean isCommand(String[] argv) {
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
        String text = found == null ? null : readOrNull(found);
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

    /** "node nsPid term" -> self-logged start, microseconds of the wall clock ({@code commands.log}). */
    private Map<String, Long> selfLoggedStartMicros() {
        Map<String, Long> starts = new HashMap<>();
        String log = commandsLog == null ? null : readOrNull(commandsLog);
        if (log == null) {
            return starts;
        }
        for (String line : log.split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length == 5 && f[0].equals("start")) {
                try {
                    starts.put(f[1] + " " + f[4] + " " + f[2], Long.parseLong(f[3]));
                } catch (NumberFormatException e) {
                    // a line torn by a crash mid-write: the first sighting still gives the start
                }
            }
        }
        return starts;
    }

    /** "1764690000.123456" (bash's EPOCHREALTIME) as microseconds; -1 while the file is still empty. */
    static long epochRealtimeMicros(String t) {
        try {
            if (t.isEmpty()) return -1;
            int dot = t.indexOf('.');
            if (dot < 0) return Long.parseLong(t) * 1_000_000L;
            String frac = (t.substring(dot + 1) + "000000").substring(0, 6);
            return Long.parseLong(t.substring(0, dot)) * 1_000_000L + Long.parseLong(frac);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static String readOrNull(Path p) {
        try {
            return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            // gone, or ESRCH and friends: the process went away between listing and reading
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
