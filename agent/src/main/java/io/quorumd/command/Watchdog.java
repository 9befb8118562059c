package io.quorumd.command;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java end of one watchdog process ({@code quorumd-watchdog.sh}, bash): a dead man's switch
 * outside the JVM for one run of the command. See the script for the line protocol.
 *
 * <p>Time base: the agent's lease ends are {@link System#nanoTime()} values ({@code
 * CLOCK_MONOTONIC}); bash can only read {@code /proc/uptime} ({@code CLOCK_BOOTTIME}, truncated to
 * 10 ms). Both clocks tick at the same rate; BOOTTIME also counts suspended time, so the offset
 * BOOTTIME - MONOTONIC only grows. Each conversion samples {@code b = BOOTTIME} then {@code n =
 * nanoTime}: {@code b - n} is at most the true offset, so the converted deadline is at most the
 * true one, and it is then floored to 10 ms. The watchdog acts on the first reading of {@code
 * /proc/uptime} at or past it: never later than the lease's end (plus the wake-up latency), at
 * most about 10 ms earlier. An offset that grew since (a suspend) moves the action earlier still.
 *
 * <p>All writes go through one feeder thread, so neither the agent's loop nor the spawner thread
 * can block on the pipe; a renewal not yet written is replaced by a newer one (deadlines are
 * absolute, so a late or skipped renewal only makes the watchdog act earlier).
 */
final class Watchdog {
    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);
    private static final long CENTI = 10_000_000L;
    private static final long MAX_AHEAD_NANOS = TimeUnit.DAYS.toNanos(365);

    private final Process process;
    private final OutputStream stdin;
    private final long stopTimeoutNanos;
    private final String label;
    private final CompletableFuture<String> armed = new CompletableFuture<>();
    private final ArrayDeque<String> pending = new ArrayDeque<>();
    private boolean pendingIsDeadline;
    private boolean releasing;

    private Watchdog(Process process, long stopTimeoutNanos, String label) {
        this.process = process;
        this.stdin = process.getOutputStream();
        this.stopTimeoutNanos = stopTimeoutNanos;
        this.label = label;
        LinePump.start("quorumd-watchdog-out-" + process.pid(), process.getInputStream(), line -> {
            if (line.startsWith("armed ")) {
                armed.complete(line);
            } else {
                log.info("watchdog[{}]: {}", process.pid(), line);
            }
        });
        Thread feeder = new Thread(this::feed, "quorumd-watchdog-feed-" + process.pid());
        feeder.setDaemon(true);
        feeder.start();
        process.onExit().thenRun(() -> armed.completeExceptionally(
                new IOException("watchdog " + process.pid() + " exited with " + process.exitValue())));
    }

    /**
     * Starts a watchdog (on the spawner thread). Its stderr, the log of what it did, is appended
     * to {@code logFile} so that it survives the agent.
     */
    static Watchdog start(Spawner spawner, int stopSignal, long stopTimeoutNanos, Path logFile, String label)
            throws IOException {
        List<String> cmd = new ArrayList<>(spawner.watchdog());
        cmd.add(Integer.toString(stopSignal));
        cmd.add(Long.toString(Math.floorDiv(stopTimeoutNanos + CENTI - 1, CENTI)));
        cmd.add(label);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("LC_ALL", "C");
        pb.redirectError(Redirect.appendTo(logFile.toFile()));
        return new Watchdog(spawner.start(pb), stopTimeoutNanos, label);
    }

    long pid() {
        return process.pid();
    }

    /** Whether the watchdog process is still running (a parked one is taken only then). */
    boolean alive() {
        return process.isAlive();
    }

    /**
     * Names the run in the watchdog's log lines ("L LABEL"); for a watchdog started ahead of need
     * (parked), which learns its run when it is taken. Ignored by the script once it guards a group.
     */
    void label(String label) {
        if (label.indexOf('\n') >= 0 || label.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("a watchdog label is one line: " + label);
        }
        enqueue("L " + label + "\n");
    }

    CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    /** Completes with the watchdog's "armed PGID STOP KILL" line once it guards the group. */
    CompletableFuture<String> armed() {
        return armed;
    }

    /** Sets the deadlines from a lease end on {@link System#nanoTime()}'s clock. */
    void renew(long leaseEndNanos) {
        String line = deadlineLine(leaseEndNanos, stopTimeoutNanos);
        synchronized (pending) {
            if (releasing) {
                return;
            }
            if (pendingIsDeadline && !pending.isEmpty()) {
                pending.removeLast();
            }
            pending.addLast(line);
            pendingIsDeadline = true;
            pending.notifyAll();
        }
    }

    /** Tells the watchdog which group to guard; it answers through {@link #armed()}. */
    void guard(int pgid) {
        enqueue("G " + pgid + "\n");
    }

    /** The group is empty: the watchdog exits without signalling; stdin is closed after. */
    void release() {
        synchronized (pending) {
            if (releasing) {
                return;
            }
            pending.addLast("Q\n");
            pendingIsDeadline = false;
            releasing = true;
            pending.notifyAll();
        }
    }

    private void enqueue(String line) {
        synchronized (pending) {
            if (releasing) {
                return;
            }
            pending.addLast(line);
            pendingIsDeadline = false;
            pending.notifyAll();
        }
    }

    private void feed() {
        boolean failed = false;
        while (true) {
            StringBuilder batch = new StringBuilder();
            boolean last;
            synchronized (pending) {
                while (pending.isEmpty() && !releasing) {
                    try {
                        pending.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                while (!pending.isEmpty()) {
                    batch.append(pending.removeFirst());
                }
                pendingIsDeadline = false;
                last = releasing;
            }
            if (!failed) {
                try {
                    // One write of whole lines, well under PIPE_BUF: the watchdog never sees half a line.
                    stdin.write(batch.toString().getBytes(StandardCharsets.US_ASCII));
                    stdin.flush();
                } catch (IOException e) {
                    failed = true;
                    if (!last) {
                        log.warn("watchdog {} ({}) no longer reads its renewals: {}", process.pid(), label, e.toString());
                    }
                }
            }
            if (last) {
                try {
                    stdin.close();
                } catch (IOException e) {
                    // already gone
                }
                return;
            }
        }
    }

    /** "D STOP_CS KILL_CS": the lease's end, and its end + stop_timeout, on /proc/uptime's clock. */
    static String deadlineLine(long leaseEndNanos, long stopTimeoutNanos) {
        long offset = bootMinusMonotonic();
        long now = System.nanoTime();
        // nanoTime values compare by difference; a lease "for ever" must not overflow into the past
        long left = Math.min(leaseEndNanos - now, MAX_AHEAD_NANOS);
        long grace = Math.min(stopTimeoutNanos, MAX_AHEAD_NANOS);
        long stop = Math.floorDiv(now + offset + left, CENTI);
        long kill = Math.floorDiv(now + offset + left + grace, CENTI);
        return "D " + stop + " " + kill + "\n";
    }

    /** A lower bound of BOOTTIME - nanoTime: BOOTTIME is read first (see the class comment). */
    static long bootMinusMonotonic() {
        long boot = Signals.bootTimeNanos();
        long mono = System.nanoTime();
        return boot - mono;
    }
}
