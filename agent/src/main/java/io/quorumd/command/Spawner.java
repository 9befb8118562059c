package io.quorumd.command;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that forks every child, and the tools and scripts they are started with.
 *
 * <p>{@code PR_SET_PDEATHSIG} (set by {@code setpriv --pdeathsig KILL}) fires when the
 * <em>thread</em> that forked the child ends, not only when the agent dies. So every child is
 * forked from this single thread, which lives as long as the agent; {@link #start} refuses to run
 * anywhere else. The same thread is the {@link Supervisor}'s and {@link Hooks}' event thread:
 * their state changes and timers run here, one at a time, so they need no locks. Tasks must
 * never block on a child.
 */
public final class Spawner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Spawner.class);
    static final String WRAPPER = "quorumd-wrapper.sh";
    static final String WATCHDOG = "quorumd-watchdog.sh";

    /** What {@link #schedule} returns once the thread is gone. */
    private static final ScheduledFuture<?> CANCELLED = new Cancelled();

    private final ScheduledExecutorService executor;
    private final Thread thread;
    private final Path setpriv;
    private final Path setsid;
    private final Path sh;
    private final Path bash;
    private final Path wrapper;
    private final Path watchdog;

    /**
     * Finds setpriv, setsid, sh and bash, and the wrapper and watchdog scripts in {@link
     * #scriptsDir()} (they are run as {@code sh FILE} and {@code bash FILE}, so they need no
     * execute bit).
     */
    public Spawner() throws IOException {
        setpriv = Programs.require("setpriv");
        setsid = Programs.require("setsid");
        sh = Programs.require("sh");
        bash = Programs.require("bash");
        Path dir = scriptsDir();
        wrapper = script(dir, WRAPPER);
        watchdog = script(dir, WATCHDOG);
        Thread[] holder = new Thread[1];
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "quorumd-spawner");
            t.setDaemon(true);
            holder[0] = t;
            return t;
        });
        // Start the thread now, and learn which one it is.
        try {
            executor.submit(() -> { }).get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the spawner thread", e);
        }
        thread = holder[0];
    }

    /** The spawner thread as an executor; tasks must be short and must not throw away the thread. */
    public ScheduledExecutorService executor() {
        return executor;
    }

    /** Runs {@code task} on the spawner thread, logging anything it throws. */
    void execute(String what, Runnable task) {
        try {
            executor.execute(() -> guarded(what, task));
        } catch (RejectedExecutionException e) {
            log.debug("{} dropped: the spawner is closed", what);
        }
    }

    /** Runs {@code task} on the spawner thread after {@code delayNanos}. */
    ScheduledFuture<?> schedule(String what, long delayNanos, Runnable task) {
        try {
            return executor.schedule(() -> guarded(what, task), delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("{} dropped: the spawner is closed", what);
            return CANCELLED;
        }
    }

    /**
     * Runs {@code task}; what it throws is logged and passed to the thread's own
     * {@link Thread.UncaughtExceptionHandler} when one is set (the agent's, which stops the agent:
     * a supervisor whose task failed half way cannot be trusted with the command), while the
     * thread itself lives on for the tasks that stop the command.
     */
    static void guarded(String what, Runnable task) {
        try {
            task.run();
        } catch (RuntimeException | Error e) {
            log.error("{} failed: {}", what, e.toString(), e);
            Thread t = Thread.currentThread();
            Thread.UncaughtExceptionHandler h = t.getUncaughtExceptionHandler();
            if (h != null && h != t.getThreadGroup()) {
                try {
                    h.uncaughtException(t, new IllegalStateException(what + " failed: " + e, e));
                } catch (RuntimeException ignored) {
                    // the handler's own failure must not end the thread either
                }
            }
        }
    }

    /** The spawner thread (for the agent's watch over its threads). */
    Thread thread() {
        return thread;
    }

    boolean onThread() {
        return Thread.currentThread() == thread;
    }

    /** Forks {@code pb}; only from the spawner thread (see the class comment). */
    Process start(ProcessBuilder pb) throws IOException {
        if (!onThread()) {
            throw new IllegalStateException("children must be forked on the spawner thread, not on "
                    + Thread.currentThread().getName() + ": PR_SET_PDEATHSIG follows the forking thread");
        }
        return pb.start();
    }

    /**
     * {@code setpriv --pdeathsig KILL -- setsid -- argv}: the child dies with the agent and leads a
     * new session and process group. A child of the JVM is never a group leader, so setsid execs
     * without forking and the pid Java sees is the group id.
     */
    List<String> groupLeader(List<String> argv) {
        return groupLeader(argv, "KILL");
    }

    /**
     * As {@link #groupLeader(List)}, with {@code deathSignal} (a name: {@code TERM}, {@code HUP},
     * ...) as the parent-death signal: the managed command gets its {@code stop_signal} when the
     * agent dies, and its watchdog sends SIGKILL to the group after {@code stop_timeout}.
     */
    List<String> groupLeader(List<String> argv, String deathSignal) {
        List<String> cmd = new ArrayList<>(List.of(setpriv.toString(), "--pdeathsig", deathSignal, "--",
                setsid.toString(), "--"));
        cmd.addAll(argv);
        return cmd;
    }

    /** The wrapper's argv head: {@code sh quorumd-wrapper.sh}. */
    List<String> wrapper() {
        return List.of(sh.toString(), wrapper.toString());
    }

    /**
     * The watchdog's argv head: {@code setsid -- bash quorumd-watchdog.sh}; its own session, so a
     * terminal's signals do not reach it, and no parent-death signal, so it outlives the agent.
     */
    List<String> watchdog() {
        return List.of(setsid.toString(), "--", bash.toString(), watchdog.toString());
    }

    /**
     * Where the wrapper and the watchdog are installed: the {@code scripts} directory beside the
     * agent's {@code lib/} (its jar's directory) or {@code classes/}: {@code
     * /usr/share/quorumd/scripts} when packaged (root-owned and read-only, so that the command,
     * which runs as the agent's user, cannot rewrite the dead man's switch that guards it), {@code
     * agent/target/scripts} in a checkout. The system property {@code quorumd.scripts} overrides
     * it.
     */
    static Path scriptsDir() throws IOException {
        String override = System.getProperty("quorumd.scripts");
        if (override != null && !override.isEmpty()) {
            return Path.of(override).toAbsolutePath();
        }
        Path code;
        try {
            code = Path.of(Spawner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            throw new IOException("cannot tell where the agent's classes are loaded from (" + e
                    + "): set -Dquorumd.scripts=DIR to the directory of " + WRAPPER + " and " + WATCHDOG, e);
        }
        return scriptsDirFor(code);
    }

    /**
     * {@code scripts/} beside the directory that holds the agent's code: {@code
     * /usr/share/quorumd/lib/quorumd.jar} and {@code agent/target/lib/quorumd.jar} give {@code
     * scripts/} beside {@code lib/}; {@code agent/target/classes} (tests) gives {@code
     * agent/target/scripts}.
     */
    static Path scriptsDirFor(Path codeSource) throws IOException {
        Path code = codeSource.toAbsolutePath().normalize();
        Path dir = Files.isDirectory(code) ? code : code.getParent();
        Path home = dir == null ? null : dir.getParent();
        if (home == null) {
            throw new IOException("the agent's classes are loaded from " + code + ", which has no parent directory:"
                    + " set -Dquorumd.scripts=DIR to the directory of " + WRAPPER + " and " + WATCHDOG);
        }
        return home.resolve("scripts");
    }

    private static Path script(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            throw new IOException(p + " is missing or unreadable: the agent's installation is incomplete"
                    + " (reinstall the package; in a checkout, build the agent: make build)");
        }
        return p;
    }

    /** Ends the spawner thread; children still alive then get their parent-death SIGKILL. */
    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class Cancelled extends CompletableFuture<Object> implements ScheduledFuture<Object> {
        Cancelled() {
            cancel(false);
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return 0;
        }

        @Override
        public int compareTo(Delayed o) {
            return 0;
        }
    }
}
