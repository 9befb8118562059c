package io.quorumd.command;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@code on_master}, {@code on_follower} and {@code fence} hooks, with the SPEC's
 * environment, in {@code /}, each in its own session and process group.
 *
 * <p><b>One at a time, in order.</b> Hooks run one after the other, in the order the role changes
 * came (the fence takes its turn like the others): an {@code on_follower} never overlaps or
 * overtakes the {@code on_master} before it. A role change cancels a queued, not yet started
 * hook of the opposite role (logged): only the newest role's hook still needs to run.
 *
 * <p><b>A run ends with its group.</b> When the hook's first process exits, or {@code
 * hooks.timeout} passes, its whole process group is SIGKILLed (so {@code sleep 60 &} in a hook
 * ends with it), and the run is over once no process of the group is alive and its output has
 * been read to the end. Only then does the next hook start. A process that leaves the group on
 * purpose ({@code setsid}, {@code systemd-run}) is not the hook's any more.
 *
 * <p><b>Nothing waits for a hook</b> but {@link #drain}: the calls return at once, a slow or
 * failing hook is only logged, and the fence's outcome comes back as {@link Event.FenceResult} (a
 * time-out is a failure). On shutdown the supervisor drains the queue (bounded by {@code
 * hooks.timeout}) before it ends the spawner thread, whose end would SIGKILL every child through
 * the parent-death signal: the {@code on_follower} of a graceful stop runs to its end.
 *
 * <p>All state below is the spawner thread's alone.
 */
public final class Hooks {
    private static final Logger log = LoggerFactory.getLogger(Hooks.class);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How long a run waits, after its group was killed, for the group to empty and its output to end. */
    static final long REAP_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final File CWD = new File("/");

    private final HookSpec spec;
    private final BaseEnv base;
    private final Consumer<Event> sink;
    private final Spawner spawner;
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final List<CompletableFuture<Void>> idleWaiters = new ArrayList<>();
    private HookRun current;

    public Hooks(HookSpec spec, BaseEnv base, Consumer<Event> sink, Spawner spawner) {
        this.spec = spec == null ? HookSpec.none() : spec;
        this.base = base;
        this.sink = sink;
        this.spawner = spawner;
    }

    /** {@code hooks.timeout} in nanoseconds. */
    long timeoutNanos() {
        return spec.timeoutNanos();
    }

    /** Runs {@code on_master} or {@code on_follower} (if configured) for {@code term} under {@code master}. */
    public void runHook(Effect.Hook kind, long term, String master) {
        boolean toMaster = kind == Effect.Hook.ON_MASTER;
        Path path = toMaster ? spec.onMaster() : spec.onFollower();
        String name = toMaster ? "on_master" : "on_follower";
        Map<String, String> vars = base.variables(toMaster ? "master" : "follower", term, master);
        spawner.execute("hook " + name, () -> enqueue(new Job(name, kind, path, vars, null)));
    }

    /**
     * Runs the fence hook against {@code oldMaster} (master in {@code oldTerm}) on behalf of this
     * node, master in {@code term}; reports {@link Event.FenceResult} whatever happens.
     */
    public void runFence(String oldMaster, long oldTerm, long term) {
        if (spec.fence() == null) {
            sink.accept(new Event.FenceResult(oldMaster, oldTerm, false, "no fence hook configured"));
            return;
        }
        Map<String, String> vars = base.variables("master", term, base.node());
        vars.put("QUORUMD_OLD_MASTER", oldMaster == null ? "" : oldMaster);
        vars.put("QUORUMD_OLD_TERM", Long.toString(oldTerm));
        Outcome outcome = (ok, detail) -> sink.accept(new Event.FenceResult(oldMaster, oldTerm, ok, detail));
        spawner.execute("fence hook", () -> enqueue(new Job("fence", null, spec.fence(), vars, outcome)));
    }

    /**
     * Completes once no hook runs or waits, at most {@code timeoutNanos} from now; then kills the
     * group of the hook that still runs and drops those still queued (each logged). For shutdown:
     * call from any thread but the spawner's, and expect the future to complete within about
     * {@code timeoutNanos} + 2 s.
     */
    CompletableFuture<Void> drain(long timeoutNanos) {
        CompletableFuture<Void> idle = new CompletableFuture<>();
        spawner.execute("drain hooks", () -> {
            idleWaiters.add(idle);
            if (current == null && queue.isEmpty()) {
                idleNow();
                return;
            }
            log.info("waiting up to {} ms for {} hook(s) to finish before exiting",
                    TimeUnit.NANOSECONDS.toMillis(timeoutNanos), queue.size() + (current == null ? 0 : 1));
            spawner.schedule("hooks drain deadline", timeoutNanos, () -> {
                if (idle.isDone()) {
                    return;
                }
                for (Job j : queue) {
                    log.warn("hook {} of term {} not run: the agent is exiting and its hooks had {} ms", j.name,
                            j.vars.get("QUORUMD_TERM"), TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
                    j.report(false, "not run: the agent is exiting");
                }
                queue.clear();
                if (current != null) {
                    timedOut(current, "still running when the agent had to exit");
                }
            });
        });
        return idle;
    }

    private interface Outcome {
        void report(boolean succeeded, String detail);
    }

    /** A hook waiting for its turn. {@code kind} is null for the fence, which is never cancelled. */
    private static final class Job {
        final String name;
        final Effect.Hook kind;
        final Path path;
        final Map<String, String> vars;
        final Outcome outcome;
        boolean reported;

        Job(String name, Effect.Hook kind, Path path, Map<String, String> vars, Outcome outcome) {
            this.name = name;
            this.kind = kind;
            this.path = path;
            this.vars = vars;
            this.outcome = outcome;
        }

        void report(boolean ok, String detail) {
            if (!reported) {
                reported = true;
                if (outcome != null) {
                    outcome.report(ok, detail);
                }
            }
        }
    }

    /** One hook run, from its fork until its group is empty and its output read. */
    private static final class HookRun {
        final Job job;
        final Process process;
        final int pgid;
        final Thread output;
        final long startNanos = System.nanoTime();
        ScheduledFuture<?> timer;
        boolean exited;
        long reapDeadlineNanos;

        HookRun(Job job, Process process, Thread output) {
            this.job = job;
            this.process = process;
            this.pgid = (int) process.pid();
            this.output = output;
        }
    }

    private void enqueue(Job job) {
        if (job.kind != null) {
            for (Iterator<Job> it = queue.iterator(); it.hasNext(); ) {
                Job q = it.next();
                if (q.kind != null && q.kind != job.kind) {
                    it.remove();
                    log.info("hook {} of term {} cancelled before it started: {} of term {} comes after it", q.name,
                            q.vars.get("QUORUMD_TERM"), job.name, job.vars.get("QUORUMD_TERM"));
                }
            }
        }
        if (job.path == null) {
            log.debug("no {} hook configured; term {}", job.name, job.vars.get("QUORUMD_TERM"));
            return;
        }
        queue.addLast(job);
        if (current == null) {
            runNext();
        } else {
            log.info("hook {} of term {} waits for {}[{}] to finish", job.name, job.vars.get("QUORUMD_TERM"),
                    current.job.name, current.pgid);
        }
    }

    private void runNext() {
        while (current == null && !queue.isEmpty()) {
            launch(queue.removeFirst());
        }
        if (current == null) {
            idleNow();
        }
    }

    private void idleNow() {
        idleWaiters.forEach(f -> f.complete(null));
        idleWaiters.clear();
    }

    private void launch(Job job) {
        ProcessBuilder pb = new ProcessBuilder(spawner.groupLeader(List.of(job.path.toString())));
        BaseEnv.apply(pb.environment(), Map.of(), job.vars);
        pb.directory(CWD);
        pb.redirectInput(Redirect.from(new File("/dev/null")));
        pb.redirectErrorStream(true);
        Process p;
        try {
            p = spawner.start(pb);
        } catch (IOException e) {
            log.error("hook {} ({}) could not be started: {}", job.name, job.path, e.getMessage());
            job.report(false, "could not start " + job.path + ": " + e.getMessage());
            return;
        }
        long pid = p.pid();
        log.info("hook {} started: {} pid {} term {}", job.name, job.path, pid, job.vars.get("QUORUMD_TERM"));
        Thread output = LinePump.start("quorumd-hook-out-" + pid, p.getInputStream(),
                line -> log.info("hook {}[{}]: {}", job.name, pid, line));
        HookRun run = new HookRun(job, p, output);
        current = run;
        run.timer = spawner.schedule("hook timeout", spec.timeoutNanos(), () -> timedOut(run,
                "timed out after " + TimeUnit.NANOSECONDS.toMillis(spec.timeoutNanos()) + " ms"));
        p.onExit().thenRun(() -> spawner.execute("hook exit", () -> exited(run)));
    }

    private void timedOut(HookRun run, String why) {
        if (run != current || run.exited) {
            return;
        }
        killGroup(run);
        String detail = why + "; its process group " + run.pgid + " was killed";
        log.warn("hook {}[{}] {}", run.job.name, run.pgid, detail);
        run.job.report(false, detail);
    }

    /** SIGKILL to the group; the leader alone too, in case it had not yet left the agent's group. */
    private static void killGroup(HookRun run) {
        if (Signals.signalGroup(run.pgid, Signals.SIGKILL) == Signals.Delivery.NO_SUCH_PROCESS
                && run.process.isAlive()) {
            Signals.kill(run.pgid, Signals.SIGKILL);
        }
    }

    private void exited(HookRun run) {
        if (run.exited) {
            return;
        }
        run.exited = true;
        run.timer.cancel(false);
        int code = run.process.exitValue();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - run.startNanos);
        String detail = Exits.describe(code) + " after " + ms + " ms";
        if (run.job.reported) {
            log.info("hook {}[{}] ended: {}", run.job.name, run.pgid, detail);
        } else if (code == 0) {
            log.info("hook {}[{}] succeeded: {}", run.job.name, run.pgid, detail);
        } else {
            log.warn("hook {}[{}] failed: {}", run.job.name, run.pgid, detail);
        }
        run.job.report(code == 0, detail);
        // What the hook left behind in its group ends with it; that also closes its output pipe.
        if (Signals.groupAlive(run.pgid)) {
            log.info("hook {}[{}] left {} in its process group: SIGKILL", run.job.name, run.pgid,
                    Signals.groupMembers(run.pgid));
            Signals.signalGroup(run.pgid, Signals.SIGKILL);
        }
        run.reapDeadlineNanos = System.nanoTime() + REAP_NANOS;
        reap(run);
    }

    /** Waits (polling, bounded) for the group to empty and the output to end, then runs the next hook. */
    private void reap(HookRun run) {
        boolean groupAlive = Signals.groupAlive(run.pgid);
        boolean outputOpen = run.output.isAlive();
        if (groupAlive || outputOpen) {
            if (System.nanoTime() - run.reapDeadlineNanos < 0) {
                if (groupAlive) {
                    Signals.signalGroup(run.pgid, Signals.SIGKILL);
                }
                spawner.schedule("hook reap", POLL_NANOS, () -> reap(run));
                return;
            }
            log.warn("hook {}[{}]: {}; not waiting any longer", run.job.name, run.pgid, groupAlive
                    ? "its process group still has live processes " + Signals.groupMembers(run.pgid)
                    : "a process outside its group still holds its output open");
        }
        current = null;
        runNext();
    }
}
