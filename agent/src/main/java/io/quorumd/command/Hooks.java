package io.quorumd.command;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@code on_master}, {@code on_follower} and {@code fence} hooks: asynchronously, each in
 * its own session and process group, with the SPEC's environment, SIGKILLed with its whole group
 * once {@code hooks.timeout} passes. Nothing waits for a hook: the calls return at once, a slow or
 * failing hook is only logged, and the fence's outcome comes back as {@link Event.FenceResult}
 * (a time-out is a failure). Hook output goes to the agent's log, line by line.
 */
public final class Hooks {
    private static final Logger log = LoggerFactory.getLogger(Hooks.class);

    private final HookSpec spec;
    private final BaseEnv base;
    private final Consumer<Event> sink;
    private final Spawner spawner;

    public Hooks(HookSpec spec, BaseEnv base, Consumer<Event> sink, Spawner spawner) {
        this.spec = spec == null ? HookSpec.none() : spec;
        this.base = base;
        this.sink = sink;
        this.spawner = spawner;
    }

    /** Runs {@code on_master} or {@code on_follower} (if configured) for {@code term} under {@code master}. */
    public void runHook(Effect.Hook kind, long term, String master) {
        boolean toMaster = kind == Effect.Hook.ON_MASTER;
        Path path = toMaster ? spec.onMaster() : spec.onFollower();
        String name = toMaster ? "on_master" : "on_follower";
        if (path == null) {
            log.debug("no {} hook configured; term {}", name, term);
            return;
        }
        Map<String, String> vars = base.variables(toMaster ? "master" : "follower", term, master);
        spawner.execute("hook " + name, () -> launch(name, path, vars, null));
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
        spawner.execute("fence hook", () -> launch("fence", spec.fence(), vars,
                (ok, detail) -> sink.accept(new Event.FenceResult(oldMaster, oldTerm, ok, detail))));
    }

    private interface Outcome {
        void report(boolean succeeded, String detail);
    }

    /** One hook run; its fields are touched on the spawner thread only. */
    private final class HookRun {
        final String name;
        final Process process;
        final Outcome outcome;
        final long startNanos = System.nanoTime();
        ScheduledFuture<?> timer;
        boolean reported;

        HookRun(String name, Process process, Outcome outcome) {
            this.name = name;
            this.process = process;
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

    private void launch(String name, Path path, Map<String, String> vars, Outcome outcome) {
        ProcessBuilder pb = new ProcessBuilder(spawner.groupLeader(List.of(path.toString())));
        BaseEnv.apply(pb.environment(), Map.of(), vars);
        pb.redirectInput(Redirect.from(new java.io.File("/dev/null")));
        pb.redirectErrorStream(true);
        Process p;
        try {
            p = spawner.start(pb);
        } catch (IOException e) {
            log.error("hook {} ({}) could not be started: {}", name, path, e.getMessage());
            if (outcome != null) {
                outcome.report(false, "could not start " + path + ": " + e.getMessage());
            }
            return;
        }
        HookRun run = new HookRun(name, p, outcome);
        long pid = p.pid();
        log.info("hook {} started: {} pid {} term {}", name, path, pid, vars.get("QUORUMD_TERM"));
        LinePump.start("quorumd-hook-out-" + pid, p.getInputStream(),
                line -> log.info("hook {}[{}]: {}", name, pid, line));
        run.timer = spawner.schedule("hook timeout", spec.timeoutNanos(), () -> timedOut(run));
        p.onExit().thenRun(() -> spawner.execute("hook exit", () -> exited(run)));
    }

    private void timedOut(HookRun run) {
        if (!run.process.isAlive()) {
            return;
        }
        int pgid = (int) run.process.pid();
        // The group first; the leader alone too, in case it had not yet left the agent's group.
        if (Signals.signalGroup(pgid, Signals.SIGKILL) == Signals.Delivery.NO_SUCH_PROCESS) {
            Signals.kill(pgid, Signals.SIGKILL);
        }
        String detail = "timed out after " + TimeUnit.NANOSECONDS.toMillis(spec.timeoutNanos())
                + " ms; its process group " + pgid + " was killed";
        log.warn("hook {}[{}] {}", run.name, pgid, detail);
        run.report(false, detail);
    }

    private void exited(HookRun run) {
        if (run.timer != null) {
            run.timer.cancel(false);
        }
        int code = run.process.exitValue();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - run.startNanos);
        String detail = Exits.describe(code) + " after " + ms + " ms";
        if (run.reported) {
            log.info("hook {}[{}] ended: {}", run.name, run.process.pid(), detail);
            return;
        }
        if (code == 0) {
            log.info("hook {}[{}] succeeded: {}", run.name, run.process.pid(), detail);
        } else {
            log.warn("hook {}[{}] failed: {}", run.name, run.process.pid(), detail);
        }
        run.report(code == 0, detail);
    }
}
