package io.quorumd.command;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process groups of {@code quorumd exec} runs, under the lease like the managed command.
 *
 * <p>{@code quorumd exec} starts CMD held in a new process group (it waits for "go" on its stdin)
 * and registers the group here over the control socket. Each group gets its own {@link Watchdog}
 * (the bash dead man's switch outside the JVM), armed with the master's lease: {@code stop_signal}
 * at the lease's end, SIGKILL {@code stop_timeout} later, renewed with every renewal of the lease;
 * the CLI lets CMD run only once the watchdog guards the group. A guard ends when its group is
 * empty (polled every {@value #POLL_MILLIS} ms, and at once when the CLI says CMD ended): not when
 * the CLI ends, so a {@code kill -9} of {@code quorumd exec} leaves CMD guarded. If the agent dies
 * the watchdog's stdin ends and it stops the group at once, as it does for the managed command.
 *
 * <p>Watchdogs are forked on the supervisor's spawner thread (whose state this class shares the
 * rule of: everything below runs there, but {@link #renew}, which goes straight to the feeders).
 */
public final class ExecGuards {
    private static final Logger log = LoggerFactory.getLogger(ExecGuards.class);
    static final long POLL_MILLIS = 100;

    private final Spawner spawner;
    private final int stopSignal;
    private final long stopTimeoutNanos;
    private final Path watchdogLog;
    private final Map<Integer, Watchdog> guards = new ConcurrentHashMap<>();
    private volatile long leaseEndNanos;
    private ScheduledFuture<?> poll;   // the spawner thread's

    ExecGuards(Spawner spawner, int stopSignal, long stopTimeoutNanos, Path watchdogLog) {
        this.spawner = spawner;
        this.stopSignal = stopSignal;
        this.stopTimeoutNanos = stopTimeoutNanos;
        this.watchdogLog = watchdogLog;
    }

    /** Why {@code pgid} may not be guarded for {@code ownerPid}, or null when it may. */
    static String refusal(int pgid, long ownerPid) {
        if (pgid <= 1) return "process group " + pgid + " is not one a command can lead";
        Signals.Stat leader = Signals.stat(pgid);
        if (leader == null || !leader.alive()) return "process " + pgid + " does not exist";
        if (leader.pgrp() != pgid) return "process " + pgid + " does not lead its own process group";
        if (ownerPid > 0 && leader.ppid() != ownerPid) {
            return "process " + pgid + " is not a child of the caller (pid " + ownerPid + ")";
        }
        // the watchdog runs as the agent's user: a group it may not signal would be guarded in name only
        int self = uidOf(Path.of("/proc/self"));
        int target = uidOf(Path.of("/proc/" + pgid));
        if (self != 0 && target != self) {
            return "process " + pgid + " runs as uid " + target + ", which the agent (uid " + self + ") may not signal;"
                    + " run quorumd exec as the agent's user";
        }
        return null;
    }

    private static int uidOf(Path proc) {
        try {
            return (Integer) java.nio.file.Files.getAttribute(proc, "unix:uid");
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Guards {@code pgid} until it is empty, with the lease ending at {@code leaseEndNanos}
     * ({@link System#nanoTime()}'s clock). Completes with the watchdog's "armed PGID STOP KILL"
     * line once it guards the group, or exceptionally (the reason in the message).
     */
    public CompletableFuture<String> guard(int pgid, long ownerPid, long leaseEndNanos, String label) {
        CompletableFuture<String> done = new CompletableFuture<>();
        spawner.execute("guard exec group " + pgid, () -> {
            String why = refusal(pgid, ownerPid);
            if (why == null && guards.containsKey(pgid)) why = "process group " + pgid + " is guarded already";
            if (why == null && leaseEndNanos - System.nanoTime() <= 0) why = "this node's lease has ended";
            if (why != null) {
                done.completeExceptionally(new IllegalArgumentException(why));
                return;
            }
            Watchdog w;
            try {
                w = Watchdog.start(spawner, stopSignal, stopTimeoutNanos, watchdogLog, "exec " + label);
            } catch (IOException e) {
                done.completeExceptionally(new IOException("cannot start a watchdog: " + e.getMessage(), e));
                return;
            }
            // G before D: the watchdog takes the group with no deadline yet, then the freshest lease
            // end (the request's, or a renewal since: both of this mastership), so that a watchdog slow
            // to start does not act on a deadline that a renewal already queued behind it has moved
            w.guard(pgid);
            guards.put(pgid, w);
            long latest = this.leaseEndNanos;
            w.renew(latest - leaseEndNanos > 0 ? latest : leaseEndNanos);
            w.onExit().thenRun(() -> spawner.execute("exec watchdog exit", () -> watchdogExited(pgid, w)));
            w.armed().whenComplete((line, failure) -> {
                if (failure != null) done.completeExceptionally(failure);
                else done.complete(line);
            });
            log.info("exec: guarding process group {} ({}) under the lease", pgid, label);
            schedulePoll();
        });
        return done;
    }

    /** The lease now ends at {@code leaseEndNanos}: every guarded group's watchdog hears it at once. */
    public void renew(long leaseEndNanos) {
        this.leaseEndNanos = leaseEndNanos;
        for (Watchdog w : guards.values()) w.renew(leaseEndNanos);
    }

    /** The CLI saw CMD end: look at its group now (its guard ends once the group is empty). */
    public void ended(int pgid) {
        spawner.execute("exec group " + pgid + " ended", this::sweep);
    }

    /** How many groups are guarded now (metrics, tests). */
    public int size() {
        return guards.size();
    }

    private void schedulePoll() {
        if (poll != null && !poll.isDone()) return;
        poll = spawner.schedule("exec groups poll", TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS), () -> {
            poll = null;
            sweep();
            if (!guards.isEmpty()) schedulePoll();
        });
    }

    private void sweep() {
        for (Map.Entry<Integer, Watchdog> e : guards.entrySet()) {
            int pgid = e.getKey();
            if (!Signals.groupAlive(pgid)) {
                guards.remove(pgid, e.getValue());
                e.getValue().release();
                log.info("exec: process group {} is empty; its guard ends", pgid);
            }
        }
    }

    /** A watchdog that dies while its group lives: the group is stopped now, never left unguarded. */
    private void watchdogExited(int pgid, Watchdog w) {
        if (!guards.remove(pgid, w)) return;
        int code = w.onExit().join().exitValue();
        if (code == 0 || !Signals.groupAlive(pgid)) return;   // it acted on a deadline and saw the group empty
        log.error("exec: the watchdog of process group {} died ({}); sending SIGKILL to the group", pgid, code);
        Signals.signalGroup(pgid, 9);
    }
}
