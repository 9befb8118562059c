package io.quorumd.command;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the managed command on the master: spawn, stop, restart, and its watchdog.
 *
 * <p><b>Threads.</b> Every state change and timer runs on the {@link Spawner}'s single thread,
 * which also forks every child (the parent-death signal follows the forking thread). The public
 * methods only post work there and return at once; {@link #renew} also hands the new deadline
 * straight to the watchdog's feeder thread, so that a busy spawner thread (an fsync) never delays
 * a renewal. Per run: two threads drain the command's stdout and stderr into the log, one reads
 * the watchdog's stdout, one writes its stdin. The JDK's process reaper reports exits.
 *
 * <p><b>Start.</b> Before forking, {@code command.state} says "starting" (fsynced, see {@link
 * CommandRecord}); then a watchdog is taken (the one parked ahead of need, see {@link #parkWatchdog},
 * or one forked now) and given the run's name and the lease's deadlines; then {@code
 * setpriv --pdeathsig STOP_SIGNAL -- setsid -- sh quorumd-wrapper.sh ... argv} (the agent's death
 * sends the command its stop_signal at once; the watchdog SIGKILLs the group after stop_timeout). The wrapper records its
 * group id and waits; once the watchdog has confirmed that it guards that group, the wrapper is
 * told "go" and execs the command. If the agent dies before, the wrapper's stdin ends and the
 * command never runs.
 *
 * <p><b>Stop.</b> {@code stop_signal} to the whole group, SIGKILL to the group after {@code
 * stop_timeout} (at once when it is 0), then wait until no process of the group is alive, leader
 * and descendants alike (zombies do not count). Only then {@link Event.CommandStopped}.
 *
 * <p><b>Events.</b> {@link Event.CommandStopped}{@code (term)} once per run that ends for good,
 * always after its group is empty: after a stop, after an end that the restart policy does not
 * restart, after an end once the lease is over, and after giving up. A crash that will be
 * restarted sends nothing. A {@link #stop} while nothing runs (idle, failed, or in back-off, which
 * it cancels) answers with {@code CommandStopped} at once, with the term of the last start; a stop
 * while a stop is under way adds nothing. {@link Event.CommandGaveUp}{@code (term, reason)} when
 * the command ended more than {@code max_restarts} times within {@code restart_window}; its group
 * is empty by then and a {@code CommandStopped(term)} follows it. Events are passed to the sink
 * on the spawner thread: the sink must only enqueue.
 *
 * <p><b>Restart.</b> Every unplanned end that the policy restarts counts (a clean exit under
 * {@code always} too). Leftover processes of a crashed leader's group are stopped like a stop
 * (stop signal, SIGKILL after stop_timeout) and the group must be empty before the next start.
 * Back-off: 100 ms for the first end within the window, doubling per end, at most 10 s, each
 * delay drawn uniformly from [d/2, d]. The restart keeps the term. No restart once the lease is
 * over: the watchdog may have been what ended the command.
 */
public final class Supervisor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    static final long BACKOFF_FIRST_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long BACKOFF_MAX_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /**
     * After the leader's exit the group's last members usually end within a few ms, and a
     * step-down's hand-over waits for the group to be seen empty: the first polls come every 2 ms
     * (measured: the 10 ms poll was 10 ms p50 of a step-down's path,
     * bench-results/2026-12-06T1842-stopbd/breakdown.md), the rest every {@link #POLL_NANOS}.
     */
    static final long FAST_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    static final int FAST_POLLS = 25;
    private static final long ARM_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long WATCHDOG_LOG_MAX_BYTES = 1 << 20;
    private static final String READY = "quorumd-wrapper ready pgid=";
    private static final String PARKED = "quorumd-wrapper parked pgid=";
    static final long PARK_AFTER_STOP_MILLIS = 300;

    public enum State {
        IDLE, STARTING, RUNNING, STOPPING, BACKOFF, FAILED;

        /** As {@code quorumd status} shows it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The command's state as of one moment ({@link #status()}); {@code quorumd status} shows it as
     * {@link io.quorumd.control.Status.CommandStatus}.
     *
     * @param pid the command's pid, which is also its process group id; 0 when none
     * @param restarts restarts within the current term
     */
    public record Snapshot(State state, long pid, long term, int restarts) {}

    private final CommandSpec spec;
    private final BaseEnv base;
    private final Path stateDir;
    private final Consumer<Event> sink;
    private final Spawner spawner;
    private final Hooks hooks;
    private final Path watchdogLog;
    private final Host host = Host.current();
    private final Random random = new Random();

    private volatile Snapshot status = new Snapshot(State.IDLE, 0, 0, 0);
    private volatile long leaseEndNanos;
    /** Every restart since this supervisor was built (the metrics' counter; {@code restarts} resets per term). */
    private volatile long restartsTotal;
    private volatile Watchdog liveWatchdog;
    /** Starts that took the parked watchdog, and starts that found none alive and forked one. */
    private volatile long parkedTaken;
    private volatile long parkedMissed;
    /** Starts that took the parked wrapper, and starts that forked one (none parked, or it was unfit). */
    private volatile long wrapperTaken;
    private volatile long wrapperMissed;
    /** Tests turn parking wrappers off to compare with the forked path. */
    volatile boolean parkWrappers = true;

    // Below: the spawner thread's alone.
    private Run run;
    private long term;
    private String master;
    private int restarts;
    private final ArrayDeque<Long> ends = new ArrayDeque<>();
    private ScheduledFuture<?> restartTimer;
    private Runnable pendingStart;
    private boolean closing;
    private final List<CompletableFuture<Void>> idleWaiters = new ArrayList<>();
    /** A watchdog started ahead of need, guarding nothing until a start takes it (see {@link #parkWatchdog}). */
    private Watchdog parked;
    private ScheduledFuture<?> reparkTimer;
    private ParkedWrapper parkedWrapper;
    private ScheduledFuture<?> reparkWrapperTimer;
    /** When the latest {@link #start} was called (for the start's breakdown in the log). */
    private long startAskedNanos;

    /**
     * @param spec the command, or null when the config has none (then start does nothing and
     *     stop answers at once)
     * @param stateDir where the restart certificate's records and the watchdog's log ({@code
     *     watchdog.log}) live; the wrapper and the watchdog run from the installation ({@link
     *     Spawner#scriptsDir})
     * @param sink receives {@link Event.CommandStopped}, {@link Event.CommandGaveUp} and {@link
     *     Event.FenceResult}, on the spawner thread
     * @throws IOException when state_dir cannot be written, or setpriv, setsid, sh, bash or the
     *     installed scripts are missing (the message names it)
     */
    public Supervisor(CommandSpec spec, HookSpec hookSpec, BaseEnv base, Path stateDir, Consumer<Event> sink)
            throws IOException {
        this.spec = spec;
        this.base = base;
        // absolute: the wrapper runs in the command's workdir and must still find the pgid file
        this.stateDir = stateDir.toAbsolutePath();
        this.sink = sink;
        Files.createDirectories(this.stateDir);
        this.watchdogLog = this.stateDir.resolve("watchdog.log");
        if (Files.isRegularFile(watchdogLog) && Files.size(watchdogLog) > WATCHDOG_LOG_MAX_BYTES) {
            Files.move(watchdogLog, this.stateDir.resolve("watchdog.log.1"), StandardCopyOption.REPLACE_EXISTING);
        }
        removeOldScripts(this.stateDir.resolve("scripts"));
        this.spawner = new Spawner();
        this.hooks = new Hooks(hookSpec, base, sink, spawner);
        if (spec != null) {
            for (String k : spec.env().keySet()) {
                if (k.startsWith("QUORUMD_")) {
                    log.warn("command.env: {} is ignored: the QUORUMD_ variables are set by the agent", k);
                }
            }
            spawner.execute("park a watchdog and a wrapper", () -> {
                parkWatchdog();
                parkWrapper();
                // the first clock_gettime through JNA (a Structure's first use) took 50-300 ms on a
                // loaded host inside the first start's critical path (Watchdog.deadlineLine): pay it now
                Watchdog.bootMinusMonotonic();
            });
        }
    }

    /** The spawner thread, which runs every start, stop and hook (for the agent's watch over its threads). */
    public Thread spawnerThread() {
        return spawner.thread();
    }

    /** Runs {@code task} on the spawner thread soon; returns at once. */
    public void runOnSpawner(Runnable task) {
        spawner.execute("a probe from the agent", task);
    }

    /**
     * Earlier builds wrote the wrapper and the watchdog into state_dir/scripts and ran them
     * from there, where the command could rewrite them; they now run from the installation.
     * Removes what such a version left, so nobody takes it for what runs.
     */
    private static void removeOldScripts(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try {
            for (String name : List.of(Spawner.WRAPPER, Spawner.WATCHDOG, Spawner.WRAPPER + ".tmp",
                    Spawner.WATCHDOG + ".tmp")) {
                Files.deleteIfExists(dir.resolve(name));
            }
            Files.deleteIfExists(dir);
            log.info("removed {}: the wrapper and the watchdog now run from {}", dir, Spawner.scriptsDir());
        } catch (IOException e) {
            log.warn("cannot remove the old scripts in {} ({}); they are no longer used", dir, e.toString());
        }
    }

    /**
     * A registry of {@code quorumd exec} groups guarded under the lease, sharing this supervisor's
     * spawner thread and watchdog log.
     */
    public ExecGuards newExecGuards(int stopSignal, long stopTimeoutNanos) {
        return new ExecGuards(spawner, stopSignal, stopTimeoutNanos, watchdogLog);
    }

    /** The hooks, which share this supervisor's spawner thread. */
    public Hooks hooks() {
        return hooks;
    }

    /** {@link Hooks#runHook}. */
    public void runHook(Effect.Hook kind, long term, String master) {
        hooks.runHook(kind, term, master);
    }

    /** {@link Hooks#runFence}. */
    public void runFence(String oldMaster, long oldTerm, long term) {
        hooks.runFence(oldMaster, oldTerm, term);
    }

    public Snapshot status() {
        return status;
    }

    /** Restarts since the agent started, across terms: a counter that never goes down. */
    public long restartsTotal() {
        return restartsTotal;
    }

    /** The pid of the watchdog guarding the current run, or 0; for tests and diagnostics. */
    long watchdogPid() {
        Watchdog w = liveWatchdog;
        return w == null ? 0 : w.pid();
    }

    /**
     * Starts the command for {@code term} (its fencing token) under {@code master}, with the
     * watchdog armed at {@code leaseEndNanos} ({@link System#nanoTime()}'s clock) before the command
     * can run. A start for the term that already runs (or waits in back-off) only renews. A start
     * for another term while a command runs stops that one first (and reports its stop).
     */
    public void start(long term, String master, long leaseEndNanos) {
        long asked = System.nanoTime();
        spawner.execute("start", () -> {
            startAskedNanos = asked;
            doStart(term, master, leaseEndNanos);
        });
    }

    /** The lease now ends at {@code leaseEndNanos}; the watchdog hears of it at once. */
    public void renew(long leaseEndNanos) {
        this.leaseEndNanos = leaseEndNanos;
        Watchdog w = liveWatchdog;
        if (w != null) {
            w.renew(leaseEndNanos);
        }
    }

    /**
     * Stops the command of {@code term}, or cancels its pending restart; answered by {@link
     * Event.CommandStopped}. A stop for another term than the one that runs (or waits in back-off) is
     * logged and ignored: it cannot be about that command. While nothing runs it is answered at once.
     */
    public void stop(long term, String reason) {
        spawner.execute("stop", () -> {
            long runs = run != null ? run.term : this.term;
            if ((run != null || restartTimer != null) && term != runs) {
                log.warn("ignoring a stop for term {} ({}): the command here is of term {}", term, reason, runs);
                return;
            }
            doStop(reason);
        });
    }

    /**
     * Stops the command and waits until its group is empty (at most stop_timeout + 5 s; past
     * that the watchdog finishes the job), then lets the hooks that run or wait finish (at most
     * hooks.timeout, then their groups are killed: see {@link Hooks#drain}), then ends the spawner
     * thread, whose end SIGKILLs every child still alive through the parent-death signal.
     */
    @Override
    public void close() {
        CompletableFuture<Void> idle = new CompletableFuture<>();
        spawner.execute("close", () -> {
            closing = true;
            pendingStart = null;
            if (parked != null) {
                parked.release();
                parked = null;
            }
            discardParkedWrapper(null);
            idleWaiters.add(idle);
            if (restartTimer != null || run != null) {
                doStop("the agent is closing");
            }
            becameIdleMaybe();
        });
        long waitNanos = (spec == null ? 0 : spec.stopTimeoutNanos()) + TimeUnit.SECONDS.toNanos(5);
        try {
            idle.get(waitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.error("the command's group was not empty {} ms after the stop began; its watchdog keeps at it",
                    TimeUnit.NANOSECONDS.toMillis(waitNanos));
        }
        long hooksNanos = hooks.timeoutNanos();
        long hooksWaitNanos = hooksNanos + Hooks.REAP_NANOS + TimeUnit.SECONDS.toNanos(1);
        try {
            hooks.drain(hooksNanos).get(hooksWaitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.error("the hooks had not finished {} ms after the agent began to exit",
                    TimeUnit.NANOSECONDS.toMillis(hooksWaitNanos));
        }
        spawner.close();
    }

    /** One spawn of the command: from the fork until its group is empty. */
    private static final class Run {
        final long term;
        final String id;
        Watchdog watchdog;
        Process process;
        int pgid;
        boolean goSent;
        boolean leaderExited;
        boolean stopRequested;
        boolean killSent;
        int exitCode;
        String failure;
        int polls;
        ScheduledFuture<?> armTimer;
        ScheduledFuture<?> killTimer;
        /** nanoTime at each step of the start, for the "started" log line: asked, launched, recorded, watchdog, forked, ready. */
        final long[] steps = new long[6];
        /** Started from the parked wrapper: "go" carries the term and the master. */
        boolean parkedWrapper;
        /** The parked wrapper said "ready" (its pgid file is written); the watchdog armed. */
        boolean ready;
        boolean armedOk;
        long readyNanos;

        Run(long term, String id) {
            this.term = term;
            this.id = id;
        }
    }

    private void doStart(long term, String master, long lease) {
        if (closing) {
            log.warn("ignoring a start for term {}: the supervisor is closing", term);
            return;
        }
        renew(lease);
        if (spec == null) {
            this.term = term;
            this.master = master;
            setStatus(State.IDLE, 0);
            return;
        }
        if (run != null) {
            if (run.term == term && !run.stopRequested) {
                return;
            }
            pendingStart = () -> startFresh(term, master);
            if (!run.stopRequested) {
                requestStop(run, "a start for term " + term + " replaces the command of term " + run.term);
            }
            return;
        }
        if (restartTimer != null) {
            if (this.term == term) {
                return;
            }
            restartTimer.cancel(false);
            restartTimer = null;
        }
        startFresh(term, master);
    }

    private void startFresh(long term, String master) {
        if (term != this.term || status.state() == State.FAILED) {
            ends.clear();
            restarts = 0;
        }
        this.term = term;
        this.master = master;
        launch();
    }

    private void launch() {
        long now = System.nanoTime();
        if (closing || leaseEndNanos - now <= 0) {
            log.warn("not starting the command for term {}: {}", term, closing ? "the supervisor is closing"
                    : "its lease ended " + TimeUnit.NANOSECONDS.toMillis(now - leaseEndNanos) + " ms ago");
            endedForGood(term);
            return;
        }
        Run r = new Run(term, HexFormat.of().formatHex(longBytes(random.nextLong())));
        r.steps[1] = System.nanoTime();
        r.steps[0] = restarts == 0 && startAskedNanos != 0 ? startAskedNanos : r.steps[1];
        setStatus(State.STARTING, 0);
        try {
            CommandRecord.clearPgid(stateDir);
            CommandRecord.starting(term, r.id, host).write(stateDir);
            r.steps[2] = System.nanoTime();
        } catch (IOException e) {
            startFailed(r, "cannot record the start in " + stateDir + " (" + e + "); check that it is writable");
            return;
        }
        log.debug("start of term {} recorded: spawning the watchdog and the wrapper", term);
        try {
            r.watchdog = takeWatchdog("term=" + term + " run=" + r.id);
        } catch (IOException e) {
            startFailed(r, "cannot start the watchdog: " + e.getMessage());
            return;
        }
        Watchdog w = r.watchdog;
        liveWatchdog = w;
        w.renew(leaseEndNanos);
        r.steps[3] = System.nanoTime();
        w.onExit().thenRun(() -> spawner.execute("watchdog exit", () -> watchdogExited(r, w)));

        ParkedWrapper pw = takeWrapper();
        if (pw != null) {
            r.parkedWrapper = true;
            r.process = pw.process;
            r.pgid = pw.pgid;
            run = r;
            setStatus(State.STARTING, r.pgid);
            pw.taker = r;
            r.process.onExit().thenRun(() -> spawner.execute("command exit", () -> leaderExited(r)));
            r.armTimer = spawner.schedule("arm timeout", ARM_TIMEOUT_NANOS, () -> armTimedOut(r));
            // The run id, now that command.state names it (fsynced above): the wrapper records its
            // group for this run and says "ready" (parkedReady), while the watchdog arms, side by side;
            // "go" waits for both (see parkWrapper for why this is never unsafe).
            try {
                OutputStream in = r.process.getOutputStream();
                in.write((r.id + "\n").getBytes(StandardCharsets.US_ASCII));
                in.flush();
            } catch (IOException e) {
                abortStart(r, "cannot give the parked wrapper its run: " + e.getMessage());
                return;
            }
            r.steps[4] = System.nanoTime();
            r.steps[5] = r.steps[4];
            r.watchdog.guard(r.pgid);
            r.watchdog.armed().whenComplete((line, err) -> spawner.execute("watchdog armed", () -> armed(r, line, err)));
            return;
        }

        List<String> argv = new ArrayList<>(spawner.wrapper());
        argv.add(stateDir.resolve(CommandRecord.PGID_FILE).toString());
        argv.add(r.id);
        argv.addAll(spec.argv());
        // the agent's death sends stop_signal at once (SPEC: stop_signal, then SIGKILL after
        // stop_timeout, which the watchdog sends to the whole group)
        ProcessBuilder pb = new ProcessBuilder(spawner.groupLeader(argv, Signals.name(spec.stopSignal())));
        // Not the agent's own (under systemd the state directory, which holds the restart
        // certificate's records): the configured workdir, else /.
        pb.directory(workdir());
        BaseEnv.apply(pb.environment(), spec.env(), base.variables("master", term, master));
        try {
            r.process = spawner.start(pb);
        } catch (IOException e) {
            startFailed(r, "cannot start " + spec.argv().get(0) + " (workdir " + (spec.workdir() != null ? spec.workdir() : "/") + "): " + e.getMessage());
            return;
        }
        r.pgid = (int) r.process.pid();
        r.steps[4] = System.nanoTime();
        run = r;
        setStatus(State.STARTING, r.pgid);
        String name = spec.name();
        int pgid = r.pgid;
        boolean[] first = {true};
        LinePump.start("quorumd-cmd-out-" + pgid, r.process.getInputStream(), line -> {
            if (first[0]) {
                first[0] = false;
                if (line.equals(READY + pgid)) {
                    spawner.execute("wrapper ready", () -> wrapperReady(r));
                    return;
                }
                log.warn("{}[{}]: the wrapper said '{}' instead of '{}{}'", name, pgid, line, READY, pgid);
            }
            log.info("{}[{}]: {}", name, pgid, line);
        });
        LinePump.start("quorumd-cmd-err-" + pgid, r.process.getErrorStream(),
                line -> log.warn("{}[{}]: {}", name, pgid, line));
        r.process.onExit().thenRun(() -> spawner.execute("command exit", () -> leaderExited(r)));
        r.armTimer = spawner.schedule("arm timeout", ARM_TIMEOUT_NANOS, () -> armTimedOut(r));
    }

    private void wrapperReady(Run r) {
        log.debug("wrapper {} of term {} ready", r.pgid, r.term);
        if (r != run || r.stopRequested || r.leaderExited) {
            return;
        }
        int pgrp = Signals.pgrpOf(r.pgid);
        if (pgrp != r.pgid) {
            abortStart(r, "the wrapper " + r.pgid + " is not its own process group leader (pgrp " + pgrp + ")");
            return;
        }
        r.steps[5] = System.nanoTime();
        r.watchdog.guard(r.pgid);
        r.watchdog.armed().whenComplete((line, err) -> spawner.execute("watchdog armed", () -> armed(r, line, err)));
    }

    /** The parked wrapper that a start took wrote its pgid file for the run: go once the watchdog armed too. */
    private void parkedReady(Run r) {
        if (r != run || r.stopRequested || r.leaderExited || r.ready) {
            return;
        }
        r.ready = true;
        r.readyNanos = System.nanoTime();
        if (r.armedOk) {
            go(r);
        }
    }

    private void armed(Run r, String line, Throwable err) {
        if (r != run || r.stopRequested || r.leaderExited) {
            return;
        }
        String[] f = line == null ? new String[0] : line.split(" ");
        if (err != null || f.length != 4 || !f[1].equals(Integer.toString(r.pgid)) || f[2].equals("never")) {
            abortStart(r, "the watchdog did not arm (" + (err != null ? err.getMessage() : line) + ")");
            return;
        }
        r.armedOk = true;
        if (r.parkedWrapper && !r.ready) {
            return;   // parkedReady sends go
        }
        go(r);
    }

    /** The group is recorded and guarded: let the wrapper exec the command. */
    private void go(Run r) {
        r.armTimer.cancel(false);
        // one write() of at most a few hundred bytes: the wrapper reads whole lines
        String go = r.parkedWrapper ? "go\n" + r.term + "\n" + (master == null ? "" : master) + "\n" : "go\n";
        try (OutputStream in = r.process.getOutputStream()) {
            in.write(go.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            abortStart(r, "cannot tell the wrapper to go: " + e.getMessage());
            return;
        }
        r.goSent = true;
        setStatus(State.RUNNING, r.pgid);
        long now = System.nanoTime();
        if (r.parkedWrapper) {
            log.info("command {} started: pid/pgid {}, term {}, watchdog {}{} (in {} ms: queued {}, record {},"
                    + " watchdog {}, parked wrapper told its run {}, to its ready {}, to armed and go {})", spec.name(),
                    r.pgid, r.term, r.watchdog.pid(), restarts > 0 ? ", restart " + restarts : "", ms(now - r.steps[0]),
                    ms(r.steps[1] - r.steps[0]), ms(r.steps[2] - r.steps[1]), ms(r.steps[3] - r.steps[2]),
                    ms(r.steps[4] - r.steps[3]), ms(r.readyNanos - r.steps[4]), ms(now - r.steps[4]));
        } else {
            log.info("command {} started: pid/pgid {}, term {}, watchdog {}{} (in {} ms: queued {}, record {},"
                    + " watchdog {}, wrapper fork {}, to ready {}, to armed and go {})", spec.name(), r.pgid, r.term,
                    r.watchdog.pid(), restarts > 0 ? ", restart " + restarts : "", ms(now - r.steps[0]),
                    ms(r.steps[1] - r.steps[0]), ms(r.steps[2] - r.steps[1]), ms(r.steps[3] - r.steps[2]),
                    ms(r.steps[4] - r.steps[3]), ms(r.steps[5] - r.steps[4]), ms(now - r.steps[5]));
        }
        // the next start's watchdog, forked once this one's critical path is over
        parkLater();
    }

    /**
     * Parks what is missing in a task of its own, after the current one: a fork never delays
     * what the current task reports (a CommandStopped that a step-down's hand-over waits for).
     */
    private void parkLater() {
        spawner.execute("park a watchdog and a wrapper", () -> {
            parkWatchdog();
            parkWrapper();
        });
    }

    /**
     * After a run's group emptied: park {@value #PARK_AFTER_STOP_MILLIS} ms later, so that the forks
     * do not compete for the CPU with the hand-over this stop may be part of (the next master starts
     * its command just then, on a small host often on the same cores). A restart sooner than that
     * forks as before.
     */
    private void parkAfterStop() {
        spawner.schedule("park a watchdog and a wrapper", TimeUnit.MILLISECONDS.toNanos(PARK_AFTER_STOP_MILLIS), () -> {
            parkWatchdog();
            parkWrapper();
        });
    }

    /**
     * Keeps one watchdog parked: started with this supervisor's static settings (stop_signal,
     * stop_timeout, the log file), told no deadline and no group, so that a start only has to
     * name its run, give it the lease and the group, and wait for "armed", instead of forking bash
     * on the critical path of a fail-over.
     *
     * <p>Why a parked watchdog is never unsafe: it signals nothing until a "G" line names a
     * group, and only {@link #takeWatchdog} (a start, on this thread, after command.state says
     * "starting") leads to one. If the agent dies (even by SIGKILL) its stdin ends and, with no
     * group, it exits at once ("agent gone before a group was assigned"); {@link #close} releases
     * it ("Q"). It never writes command.pgid nor command.state, so the restart certificate reads
     * exactly what it reads without it. Its arguments come from {@link #spec}, which is final (a
     * config change restarts the agent), so a parked watchdog cannot go stale; one that died is
     * replaced (a start that finds it dead forks one as before: {@link #parkedMissed}). Its stderr
     * is the same watchdog.log as every watchdog's, so nothing piles up; the JDK's reaper reaps it.
     */
    private void parkWatchdog() {
        if (spec == null || closing || (parked != null && parked.alive())) {
            return;
        }
        if (reparkTimer != null) {
            reparkTimer.cancel(false);
            reparkTimer = null;
        }
        Watchdog w;
        try {
            w = Watchdog.start(spawner, spec.stopSignal(), spec.stopTimeoutNanos(), watchdogLog, "parked");
        } catch (IOException e) {
            log.warn("cannot park a watchdog ahead of the next start ({}); the start will fork its own", e.getMessage());
            return;
        }
        parked = w;
        w.onExit().thenRun(() -> spawner.execute("parked watchdog exit", () -> parkedExited(w)));
    }

    /** A parked watchdog ended before any start took it: park another in a second (not in a loop). */
    private void parkedExited(Watchdog w) {
        if (parked != w) {
            return;   // taken by a start (its run watches it now) or released
        }
        parked = null;
        if (closing) {
            return;
        }
        log.warn("the parked watchdog {} ended ({}); parking another in 1 s", w.pid(),
                Exits.describe(w.onExit().join().exitValue()));
        if (reparkTimer == null) {
            reparkTimer = spawner.schedule("park a watchdog again", TimeUnit.SECONDS.toNanos(1), () -> {
                reparkTimer = null;
                parkWatchdog();
            });
        }
    }

    /**
     * The watchdog for a new run: the parked one, named {@code label}, when it is alive; else one
     * forked now, as before parking existed (counted in {@link #parkedMissed} and logged).
     */
    private Watchdog takeWatchdog(String label) throws IOException {
        Watchdog w = parked;
        parked = null;
        if (w != null && w.alive()) {
            w.label(label);
            parkedTaken++;   // the spawner thread's alone: a plain increment of a volatile is safe
            return w;
        }
        parkedMissed++;
        log.warn("no parked watchdog alive{}; forking one for this start", w == null ? "" : " (watchdog " + w.pid()
                + " has ended)");
        return Watchdog.start(spawner, spec.stopSignal(), spec.stopTimeoutNanos(), watchdogLog, label);
    }

    /** A wrapper started ahead of need ({@code sh quorumd-wrapper.sh --parked ARGV}): see {@link #parkWrapper}. */
    private static final class ParkedWrapper {
        final Process process;
        final int pgid;
        /** Completes once it said "parked" (it runs the script, so its group exists). */
        final CompletableFuture<Void> said = new CompletableFuture<>();
        /** The run that took it (set on the spawner thread before it is told the run id). */
        volatile Run taker;

        ParkedWrapper(Process process) {
            this.process = process;
            this.pgid = (int) process.pid();
        }
    }

    private java.io.File workdir() {
        return spec.workdir() != null ? spec.workdir().toFile() : new java.io.File("/");
    }

    /**
     * Keeps one wrapper parked while no run exists: forked as a start forks it (the same
     * setpriv/setsid head, parent-death signal, workdir, stdio pipes and environment, less
     * QUORUMD_TERM and QUORUMD_MASTER), so that a start needs no fork: it gives the wrapper its run
     * id (the wrapper then writes the pgid file and says "ready") while the watchdog arms, then
     * sends "go", the term and the master, which the wrapper exports before it execs the command.
     * The command's environment is therefore the same set of variables as a forked wrapper's
     * (ParkedWrapperTest compares the two).
     *
     * <p>Why it is never unsafe:
     * <ul>
     *   <li>It execs nothing without "go" (and a numeric term), and never before it said "ready",
     *       i.e. before its pgid file is written; the end of its stdin (the agent died, even by
     *       SIGKILL, or {@link #close}, or it was found unfit) makes it exit, and the parent-death
     *       signal (stop_signal) reaches it too. It forks nothing while parked: its group is itself.
     *   <li>It writes no file while parked. The restart certificate trusts command.pgid only for the
     *       run that command.state names, and the wrapper learns a run id only in {@link #launch},
     *       on this thread, after command.state says "starting" for that new run (fsynced) and the
     *       old pgid file was removed; launch runs only when {@link #run} is null, i.e. after the
     *       previous run's group was seen empty and "stopped" was written. So it never replaces
     *       the file of a run that may still be alive; a parked wrapper of an earlier agent cannot
     *       either (its stdin ended with that agent: it exited without writing). A restarted agent
     *       parks one at once, while the old run may still be stopping: that writes nothing, and
     *       the clearance still waits for the certificate.
     *   <li>From there on it is the forked wrapper's sequence: "starting" for run R, then "pgid=P
     *       run=R" written by P itself inside its own group, then the command execs as P. If the agent
     *       dies in between, either P never got "go" (it exits: the group empties and the certificate
     *       rightly says so) or the command runs in group P, which the certificate sees alive; a
     *       certificate read before the file exists says UNKNOWN, as for a forked wrapper.
     *   <li>The watchdog is given group P while the wrapper writes its file, not after: it guards a
     *       group that is the parked wrapper alone until "go", which still waits for both answers.
     * </ul>
     * Fit for a start only while alive, after its "parked" line, leading its own group, and while
     * its working directory is still {@code command.workdir} (a directory replaced since would leave
     * it in the old one); otherwise it is discarded (stdin closed) and the start forks a wrapper as
     * before ({@link #wrapperMissed}, a warning). The spec is final (a config change restarts the
     * agent), so nothing else can go stale. One that ends while parked is replaced a second later.
     */
    private void parkWrapper() {
        if (spec == null || closing || run != null || !parkWrappers
                || (parkedWrapper != null && parkedWrapper.process.isAlive())) {
            return;
        }
        if (reparkWrapperTimer != null) {
            reparkWrapperTimer.cancel(false);
            reparkWrapperTimer = null;
        }
        List<String> argv = new ArrayList<>(spawner.wrapper());
        argv.add("--parked");
        argv.add(stateDir.resolve(CommandRecord.PGID_FILE).toString());
        argv.addAll(spec.argv());
        ProcessBuilder pb = new ProcessBuilder(spawner.groupLeader(argv, Signals.name(spec.stopSignal())));
        pb.directory(workdir());
        java.util.Map<String, String> vars = base.variables("master", 0, null);
        vars.remove("QUORUMD_TERM");
        vars.remove("QUORUMD_MASTER");
        BaseEnv.apply(pb.environment(), spec.env(), vars);
        Process p;
        try {
            p = spawner.start(pb);
        } catch (IOException e) {
            log.warn("cannot park a wrapper ahead of the next start ({}); the start will fork its own", e.getMessage());
            return;
        }
        ParkedWrapper pw = new ParkedWrapper(p);
        parkedWrapper = pw;
        String name = spec.name();
        int pgid = pw.pgid;
        boolean[] first = {true};
        boolean[] readySeen = {false};
        LinePump.start("quorumd-cmd-out-" + pgid, p.getInputStream(), line -> {
            if (first[0]) {
                first[0] = false;
                if (line.equals(PARKED + pgid)) {
                    pw.said.complete(null);
                    return;
                }
                log.warn("{}[{}]: the parked wrapper said '{}' instead of '{}{}'", name, pgid, line, PARKED, pgid);
            }
            Run taker = pw.taker;
            if (taker != null && !readySeen[0]) {
                readySeen[0] = true;
                if (line.equals(READY + pgid)) {
                    spawner.execute("parked wrapper ready", () -> parkedReady(taker));
                    return;
                }
                log.warn("{}[{}]: the wrapper said '{}' instead of '{}{}'", name, pgid, line, READY, pgid);
            }
            log.info("{}[{}]: {}", name, pgid, line);
        });
        LinePump.start("quorumd-cmd-err-" + pgid, p.getErrorStream(), line -> log.warn("{}[{}]: {}", name, pgid, line));
        p.onExit().thenRun(() -> spawner.execute("parked wrapper exit", () -> parkedWrapperExited(pw)));
    }

    private void parkedWrapperExited(ParkedWrapper pw) {
        if (parkedWrapper != pw) {
            return;   // taken by a start (its run watches it now) or discarded
        }
        parkedWrapper = null;
        if (closing) {
            return;
        }
        log.warn("the parked wrapper {} ended ({}); parking another in 1 s", pw.pgid,
                Exits.describe(pw.process.exitValue()));
        if (reparkWrapperTimer == null) {
            reparkWrapperTimer = spawner.schedule("park a wrapper again", TimeUnit.SECONDS.toNanos(1), () -> {
                reparkWrapperTimer = null;
                parkWrapper();
            });
        }
    }

    /** Ends the parked wrapper, if any (the end of its stdin): it runs nothing. */
    private void discardParkedWrapper(String why) {
        ParkedWrapper pw = parkedWrapper;
        parkedWrapper = null;
        if (pw == null) {
            return;
        }
        if (why != null) {
            log.warn("parked wrapper {} not used: {}; forking one for this start", pw.pgid, why);
        }
        endInput(pw);
    }

    private static void endInput(ParkedWrapper pw) {
        try {
            pw.process.getOutputStream().close();
        } catch (IOException e) {
            // gone already
        }
    }

    /** The parked wrapper when it is fit for this start (see {@link #parkWrapper}), else null. */
    private ParkedWrapper takeWrapper() {
        ParkedWrapper pw = parkedWrapper;
        String why = null;
        if (pw == null) {
            why = "none parked";
        } else if (!pw.process.isAlive()) {
            why = "it has ended";
        } else if (!pw.said.isDone()) {
            why = "it has not said it is parked yet";
        } else if (Signals.pgrpOf(pw.pgid) != pw.pgid) {
            why = "it does not lead its own process group";
        } else if (master != null && (master.indexOf('\n') >= 0 || master.indexOf('\r') >= 0)) {
            why = "the master's name is not one line";
        } else if (!sameWorkdir(pw.pgid)) {
            why = "its working directory is no longer " + workdir();
        }
        if (why == null) {
            parkedWrapper = null;
            wrapperTaken++;   // the spawner thread's alone
            return pw;
        }
        wrapperMissed++;
        if (pw == null) {
            log.warn("no parked wrapper; forking one for this start");
        } else {
            discardParkedWrapper(why);
        }
        return null;
    }

    private boolean sameWorkdir(int pid) {
        try {
            return Files.isSameFile(Path.of("/proc/" + pid + "/cwd"), workdir().toPath());
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /** Starts that took the parked wrapper (tests, diagnostics). */
    long wrapperTaken() {
        return wrapperTaken;
    }

    /** Starts that forked a wrapper: none was parked, or it was unfit (tests, diagnostics). */
    long wrapperMissed() {
        return wrapperMissed;
    }

    /** The pid of the parked wrapper once it said "parked", or 0 (tests; read on the spawner thread). */
    long parkedWrapperPid() {
        return onSpawnerThread("parked wrapper pid",
                () -> parkedWrapper == null || !parkedWrapper.said.isDone() ? 0L : (long) parkedWrapper.pgid);
    }

    /** {@code read} run on the spawner thread, whose state it reads; -1 if it gave no answer in 10 s. */
    private long onSpawnerThread(String what, java.util.function.LongSupplier read) {
        CompletableFuture<Long> answer = new CompletableFuture<>();
        spawner.execute(what, () -> answer.complete(read.getAsLong()));
        try {
            return answer.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (ExecutionException | TimeoutException e) {
            return -1;
        }
    }

    /** Starts that took a parked watchdog (tests, diagnostics). */
    long parkedTaken() {
        return parkedTaken;
    }

    /** Starts that found no parked watchdog alive and forked one (tests, diagnostics). */
    long parkedMissed() {
        return parkedMissed;
    }

    /** The pid of the parked watchdog, or 0 (tests; read on the spawner thread). */
    long parkedPid() {
        return onSpawnerThread("parked pid", () -> parked == null ? 0L : parked.pid());
    }

    private void armTimedOut(Run r) {
        if (r == run && !r.goSent && !r.stopRequested && !r.leaderExited) {
            abortStart(r, "the wrapper or the watchdog did not answer within "
                    + TimeUnit.NANOSECONDS.toSeconds(ARM_TIMEOUT_NANOS) + " s");
        }
    }

    /** Before "go" nothing but the wrapper runs: SIGKILL it; its exit then counts as a failure. */
    private void abortStart(Run r, String why) {
        log.error("command {} of term {} not started: {}", spec.name(), r.term, why);
        r.failure = why;
        signal(r, Signals.SIGKILL);
        r.killSent = true;
    }

    /** A failure before any process of the command existed. */
    private void startFailed(Run r, String why) {
        log.error("command {} of term {} not started: {}", spec.name(), r.term, why);
        r.failure = why;
        if (r.watchdog != null) {
            r.watchdog.release();
            if (liveWatchdog == r.watchdog) {
                liveWatchdog = null;
            }
        }
        writeStopped(r);
        parkLater();
        unplannedEnd(r);
    }

    private void leaderExited(Run r) {
        if (r != run) {
            return;
        }
        r.leaderExited = true;
        r.exitCode = r.process.exitValue();
        if (r.armTimer != null) {
            r.armTimer.cancel(false);
        }
        String how = r.goSent ? Exits.describe(r.exitCode) : "the wrapper ended (" + Exits.describe(r.exitCode) + ")";
        if (r.stopRequested) {
            log.info("command {}[{}] of term {} ended on stop: {}", spec.name(), r.pgid, r.term, how);
        } else {
            log.warn("command {}[{}] of term {} ended: {}", spec.name(), r.pgid, r.term, how);
            if (r.killTimer == null && !r.killSent && Signals.groupAlive(r.pgid)) {
                log.warn("stopping what is left of group {}: {}", r.pgid, Signals.groupMembers(r.pgid));
                beginStop(r);
            }
        }
        pollEmpty(r);
    }

    private void pollEmpty(Run r) {
        if (r != run) {
            return;
        }
        if (!Signals.groupAlive(r.pgid)) {
            groupEmpty(r);
            return;
        }
        r.polls++;
        int slow = r.polls - FAST_POLLS;
        if (slow > 0 && slow % 200 == 0) {
            log.warn("process group {} of term {} still has live processes {} after {} s{}", r.pgid, r.term,
                    Signals.groupMembers(r.pgid), slow / 100, r.killSent ? " and SIGKILL" : "");
            if (r.killSent) {
                signal(r, Signals.SIGKILL);
            }
        }
        spawner.schedule("poll group", pollDelayNanos(r.polls), () -> pollEmpty(r));
    }

    /** The wait before the next look at a stopping group, after {@code polls} looks that found it alive. */
    static long pollDelayNanos(int polls) {
        return polls <= FAST_POLLS ? FAST_POLL_NANOS : POLL_NANOS;
    }

    private void groupEmpty(Run r) {
        log.debug("process group {} of term {} is empty: recording it", r.pgid, r.term);
        if (r.killTimer != null) {
            r.killTimer.cancel(false);
        }
        r.watchdog.release();
        if (liveWatchdog == r.watchdog) {
            liveWatchdog = null;
        }
        writeStopped(r);
        run = null;
        parkAfterStop();
        if (r.stopRequested) {
            log.info("command {} of term {} stopped: process group {} is empty", spec.name(), r.term, r.pgid);
            endedForGood(r.term);
            Runnable next = pendingStart;
            pendingStart = null;
            if (next != null && !closing) {
                next.run();
            }
            return;
        }
        unplannedEnd(r);
    }

    /** The command ended by itself (or could not start): restart, or give up, or stay stopped. */
    private void unplannedEnd(Run r) {
        boolean failed = r.failure != null || r.exitCode != 0;
        String how = r.failure != null ? r.failure : Exits.describe(r.exitCode);
        RestartPolicy policy = spec.restart();
        if (closing || policy == RestartPolicy.NEVER || (policy == RestartPolicy.ON_FAILURE && !failed)) {
            log.info("command {} of term {} is not restarted ({}; restart: {})", spec.name(), r.term, how,
                    closing ? "closing" : policy.yamlName());
            endedForGood(r.term);
            return;
        }
        long now = System.nanoTime();
        while (!ends.isEmpty() && now - ends.peekFirst() > spec.restartWindowNanos()) {
            ends.removeFirst();
        }
        ends.addLast(now);
        if (ends.size() > spec.maxRestarts()) {
            String reason = "command " + spec.name() + " ended " + ends.size() + " times within "
                    + TimeUnit.NANOSECONDS.toMillis(spec.restartWindowNanos()) + " ms (max_restarts "
                    + spec.maxRestarts() + "); last: " + how;
            log.error("giving up on the command of term {}: {}", r.term, reason);
            setStatus(State.FAILED, 0);
            sink.accept(new Event.CommandGaveUp(r.term, reason));
            sink.accept(new Event.CommandStopped(r.term));
            becameIdleMaybe();
            return;
        }
        if (leaseEndNanos - now <= 0) {
            log.warn("command {} of term {} is not restarted ({}): the lease ended {} ms ago", spec.name(), r.term,
                    how, TimeUnit.NANOSECONDS.toMillis(now - leaseEndNanos));
            endedForGood(r.term);
            return;
        }
        long delay = backoff(ends.size());
        log.warn("command {} of term {} ended ({}); restart {} of at most {} in {} ms", spec.name(), r.term, how,
                ends.size(), spec.maxRestarts(), TimeUnit.NANOSECONDS.toMillis(delay));
        setStatus(State.BACKOFF, 0);
        restartTimer = spawner.schedule("restart", delay, () -> {
            restartTimer = null;
            restarts++;
            restartsTotal++;   // the spawner thread's alone: a plain increment of a volatile is safe
            launch();
        });
    }

    /** Delay before the restart after the {@code n}-th end within the window (n ≥ 1). */
    long backoff(int n) {
        long d = BACKOFF_FIRST_NANOS << Math.min(n - 1, 20);
        d = Math.min(d, BACKOFF_MAX_NANOS);
        return d / 2 + random.nextLong(d / 2 + 1);
    }

    private void doStop(String reason) {
        pendingStart = null;
        if (restartTimer != null) {
            restartTimer.cancel(false);
            restartTimer = null;
            log.info("restart of the command of term {} cancelled: {}", term, reason);
            endedForGood(term);
            return;
        }
        if (run != null) {
            if (!run.stopRequested) {
                requestStop(run, reason);
            }
            return;
        }
        sink.accept(new Event.CommandStopped(term));
    }

    private void requestStop(Run r, String reason) {
        r.stopRequested = true;
        setStatus(State.STOPPING, r.pgid);
        log.info("stopping command {}[{}] of term {}: {}", spec.name(), r.pgid, r.term, reason);
        if (r.armTimer != null) {
            r.armTimer.cancel(false);
        }
        if (r.killTimer == null && !r.killSent) {
            beginStop(r);
        }
    }

    /** stop_signal to the group, SIGKILL after stop_timeout (at once when it is 0). */
    private void beginStop(Run r) {
        if (spec.stopTimeoutNanos() == 0) {
            signal(r, Signals.SIGKILL);
            r.killSent = true;
            return;
        }
        signal(r, spec.stopSignal());
        r.killTimer = spawner.schedule("stop timeout", spec.stopTimeoutNanos(), () -> {
            if (r == run && Signals.groupAlive(r.pgid)) {
                log.warn("process group {} of term {} outlived stop_timeout ({} ms): SIGKILL to {}", r.pgid, r.term,
                        TimeUnit.NANOSECONDS.toMillis(spec.stopTimeoutNanos()), Signals.groupMembers(r.pgid));
                signal(r, Signals.SIGKILL);
            }
            r.killSent = true;
        });
    }

    private void signal(Run r, int sig) {
        Signals.Delivery d = Signals.signalGroup(r.pgid, sig);
        // Just after the fork, before setsid ran, the group does not exist yet: the leader alone.
        if (d == Signals.Delivery.NO_SUCH_PROCESS && !r.leaderExited && r.process.isAlive()) {
            Signals.kill(r.pgid, sig);
        } else if (d == Signals.Delivery.NOT_PERMITTED || d == Signals.Delivery.FAILED) {
            log.error("signal {} to process group {} failed: {}", sig, r.pgid, d);
        }
    }

    /** A watchdog that dies while its group lives is replaced, so the group is never unguarded. */
    private void watchdogExited(Run r, Watchdog w) {
        int code = w.onExit().join().exitValue();
        if (r != run || r.watchdog != w || code == 0) {
            return;
        }
        log.error("watchdog {} of term {} died ({}); starting another for group {}", w.pid(), r.term,
                Exits.describe(code), r.pgid);
        try {
            Watchdog nw = Watchdog.start(spawner, spec.stopSignal(), spec.stopTimeoutNanos(), watchdogLog,
                    "term=" + r.term + " run=" + r.id);
            r.watchdog = nw;
            liveWatchdog = nw;
            nw.renew(leaseEndNanos);
            nw.guard(r.pgid);
            nw.onExit().thenRun(() -> spawner.execute("watchdog exit", () -> watchdogExited(r, nw)));
        } catch (IOException e) {
            log.error("cannot start a new watchdog ({}): stopping the command of term {}", e.getMessage(), r.term);
            r.failure = "its watchdog died and could not be replaced";
            beginStop(r);
        }
    }

    private void writeStopped(Run r) {
        try {
            CommandRecord.starting(r.term, r.id, host).stopped().write(stateDir);
        } catch (IOException e) {
            log.error("cannot record in {} that the command of term {} stopped: {}; a restarted agent will not"
                    + " certify it", stateDir, r.term, e.toString());
        }
    }

    private void endedForGood(long t) {
        setStatus(State.IDLE, 0);
        sink.accept(new Event.CommandStopped(t));
        becameIdleMaybe();
    }

    private void becameIdleMaybe() {
        if (run == null && restartTimer == null) {
            idleWaiters.forEach(f -> f.complete(null));
            idleWaiters.clear();
        }
    }

    private void setStatus(State s, long pid) {
        status = new Snapshot(s, pid, term, restarts);
    }

    /** Milliseconds with one decimal, for log lines. */
    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }

    private static byte[] longBytes(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }
}
