package io.quorumd.it.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Watches the managed commands from outside, as SPEC's "How tests judge exclusivity" says: a
 * command runs from its start until its process group is empty, seen by polling /proc. Each
 * command registers itself by writing {@code cmd-NODE-TERM-PGID} into the run directory (its
 * content: the start time as bash's {@code EPOCHREALTIME}); a SIGKILLed command cannot log its
 * end, so ends are observed here. Every poll checks that at most one command group is alive.
 */
public final class CommandObserver implements AutoCloseable {
    /** One command run: who, with which fencing token, and when it was seen alive (nanoTime). */
    public static final class Run {
        public final String node;
        public final long term;
        public final long pgid;
        public final long firstSeenNanos;
        /** When the group was first seen empty (nanoTime), -1 while it runs. */
        public volatile long endNanos = -1;
        /** The command's own record of its start, microseconds of the real-time clock; -1 until read. */
        public volatile long startEpochMicros = -1;
        final Path file;

        Run(String node, long term, long pgid, long firstSeenNanos, Path file) {
            this.file = file;
            this.node = node;
            this.term = term;
            this.pgid = pgid;
            this.firstSeenNanos = firstSeenNanos;
        }

        @Override
        public String toString() {
            return node + "@term" + term + "(pgid " + pgid + ")";
        }
    }

    private final Path dir;
    private final Map<String, Run> runs = new TreeMap<>();
    private final List<String> overlaps = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closed;
    private long polls;

    public CommandObserver(Path dir) {
        this.dir = dir;
        this.thread = new Thread(this::loop, "command-observer");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void loop() {
        while (!closed) {
            poll();
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void poll() {
        long now = System.nanoTime();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "cmd-*")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (runs.containsKey(name)) continue;
                String[] f = name.split("-");
                // cmd-NODE-TERM-PGID, where NODE may contain dashes
                long pgid = Long.parseLong(f[f.length - 1]);
                long term = Long.parseLong(f[f.length - 2]);
                String node = String.join("-", java.util.Arrays.copyOfRange(f, 1, f.length - 2));
                runs.put(name, new Run(node, term, pgid, now, p));
            }
        } catch (IOException | RuntimeException e) {
            // a half-written name: next poll
        }
        // /proc is read after the directory: a command registers itself while alive, so every run
        // listed above was alive before this scan began (read before the listing, a command that
        // started between the two would be taken for one that already ended)
        Set<Long> alive = livePgids();
        List<Run> running = new ArrayList<>();
        for (Run r : runs.values()) {
            if (r.startEpochMicros < 0) r.startEpochMicros = readStart(r.file);
            if (r.endNanos >= 0) continue;
            if (alive.contains(r.pgid)) running.add(r);
            else r.endNanos = now;
        }
        if (running.size() > 1) overlaps.add("at poll " + polls + ": " + running + " alive at once");
        polls++;
    }

    /** "1764690000.123456" as microseconds; -1 while the file is still empty. */
    private static long readStart(Path f) {
        try {
            String t = Files.readString(f, StandardCharsets.US_ASCII).trim();
            if (t.isEmpty()) return -1;
            int dot = t.indexOf('.');
            if (dot < 0) return Long.parseLong(t) * 1_000_000L;
            String frac = (t.substring(dot + 1) + "000000").substring(0, 6);
            return Long.parseLong(t.substring(0, dot)) * 1_000_000L + Long.parseLong(frac);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Process groups with at least one member that is not a zombie. */
    private static Set<Long> livePgids() {
        Set<Long> s = new HashSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.isEmpty() || !Character.isDigit(n.charAt(0))) continue;
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"), StandardCharsets.US_ASCII);
                } catch (IOException | RuntimeException gone) {
                    continue;
                }
                int close = stat.lastIndexOf(')');
                if (close < 0) continue;
                String[] f = stat.substring(close + 2).split(" ");
                if (f.length < 3 || f[0].equals("Z") || f[0].equals("X")) continue;
                s.add(Long.parseLong(f[2]));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc", e);
        }
        return s;
    }

    public synchronized List<String> overlaps() {
        return List.copyOf(overlaps);
    }

    public synchronized List<Run> runs() {
        return List.copyOf(runs.values());
    }

    /** The runs still alive now. */
    public synchronized List<Run> running() {
        poll();
        List<Run> l = new ArrayList<>();
        for (Run r : runs.values()) if (r.endNanos < 0) l.add(r);
        return l;
    }

    public synchronized long polls() {
        return polls;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
