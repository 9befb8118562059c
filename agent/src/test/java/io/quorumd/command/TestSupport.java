package io.quorumd.command;

import static org.junit.jupiter.api.Assertions.fail;

import io.quorumd.core.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Polling with deadlines, an event sink, and a /proc reader independent of {@link Signals}. */
final class TestSupport {
    static final BaseEnv BASE = new BaseEnv("payments", "node-a", List.of("node-a", "node-b", "node-c"));

    /**
     * How long a test waits for something that should happen (a process exits, a file appears,
     * an event arrives) before it fails: {@code quorumd.test.patience} milliseconds, 10 s by
     * default for a build on a loaded machine. It bounds waits only, never what a test asserts:
     * a correct run ends each wait long before it, so a shorter patience only makes a broken
     * behaviour fail sooner (`make mutation` sets it lower: a mutant that loses an event or a
     * stop then fails in seconds instead of waiting out the default).
     */
    static final Duration PATIENCE = Duration.ofMillis(patienceMillis());

    private static long patienceMillis() {
        String s = System.getProperty("quorumd.test.patience", "10000");
        try {
            long ms = Long.parseLong(s.trim());
            if (ms > 0) return ms;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("quorumd.test.patience must be a positive number of milliseconds, got '"
                + s + "'");
    }

    /** {@link #PATIENCE} on top of {@code expected}, the longest a correct run takes by design. */
    static Duration patienceAfter(Duration expected) {
        return expected.plus(PATIENCE);
    }

    private TestSupport() {}

    /** Polls {@code cond} every 5 ms; fails with {@code what} if it is not true within {@code timeout}. */
    static void await(String what, Duration timeout, BooleanSupplier cond) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + timeout.toMillis() + " ms: " + what);
            }
            sleepMillis(5);
        }
    }

    static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** The events a supervisor reports, in order, with the time each arrived. */
    static final class Events {
        record Seen(Event event, long atNanos) {}

        final LinkedBlockingQueue<Seen> queue = new LinkedBlockingQueue<>();
        final List<Seen> all = new ArrayList<>();

        void accept(Event e) {
            queue.add(new Seen(e, System.nanoTime()));
        }

        /** The next event, which must be a {@code type} and arrive within {@code timeout}. */
        <T extends Event> Seen next(Class<T> type, Duration timeout) {
            Seen s;
            try {
                s = queue.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            if (s == null) {
                fail("no " + type.getSimpleName() + " within " + timeout.toMillis() + " ms; seen before: " + all);
            }
            all.add(s);
            if (!type.isInstance(s.event())) {
                fail("expected " + type.getSimpleName() + " but got " + s.event() + "; seen before: " + all);
            }
            return s;
        }

        <T extends Event> T nextEvent(Class<T> type, Duration timeout) {
            return type.cast(next(type, timeout).event());
        }

        /** Fails if any event arrives within {@code window}. */
        void none(Duration window) {
            try {
                Seen s = queue.poll(window.toMillis(), TimeUnit.MILLISECONDS);
                if (s != null) {
                    fail("unexpected event " + s.event() + "; seen before: " + all);
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    static CommandSpec shell(String script, long stopTimeoutMillis, RestartPolicy restart, int maxRestarts) {
        return new CommandSpec(List.of("/bin/sh", "-c", script), null, Map.of(), Signals.SIGTERM,
                TimeUnit.MILLISECONDS.toNanos(stopTimeoutMillis), restart, maxRestarts, TimeUnit.SECONDS.toNanos(60));
    }

    static CommandSpec bash(String script, long stopTimeoutMillis, RestartPolicy restart, int maxRestarts) {
        return new CommandSpec(List.of("/bin/bash", "-c", script), null, Map.of(), Signals.SIGTERM,
                TimeUnit.MILLISECONDS.toNanos(stopTimeoutMillis), restart, maxRestarts, TimeUnit.SECONDS.toNanos(60));
    }

    static long leaseIn(Duration d) {
        return System.nanoTime() + d.toNanos();
    }

    static Path script(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    static String readOrEmpty(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Live (non-zombie) members of process group {@code pgid}, read straight from /proc/PID/stat
     * without {@link Signals}, so that the tests do not judge the code with itself.
     */
    static List<Integer> liveMembers(int pgid) {
        List<Integer> found = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : dir) {
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"), StandardCharsets.ISO_8859_1);
                } catch (IOException e) {
                    continue;
                }
                String[] f = stat.substring(stat.lastIndexOf(") ") + 2).split(" ");
                if (Integer.parseInt(f[2]) == pgid && !f[0].equals("Z")) {
                    found.add(Integer.parseInt(p.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return found;
    }

    /** /proc/uptime in centiseconds: the watchdog's clock. */
    static long uptimeCs() {
        String s = readOrEmpty(Path.of("/proc/uptime")).split(" ")[0];
        return Long.parseLong(s.replace(".", ""));
    }
}
