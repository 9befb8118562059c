package io.quorumd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The adapter threads the event loop depends on, and whether each is alive and making progress,
 * so that the agent never stays half alive: deaf, or unable to stop its command, while still
 * telling systemd's watchdog that it is well.
 *
 * <p>For every watched thread: an exception that ends it reaches its
 * {@link Thread.UncaughtExceptionHandler}, which this class sets (adapters whose threads survive a
 * failed task, like the spawner's, pass the failure to the same handler); a thread found dead
 * counts too (whatever ended it). A thread that can run a task on request is also asked every
 * {@link #PROBE_INTERVAL_NANOS} to run a no-op; one that has not run it {@link #STALL_NANOS}
 * later is wedged. A thread that takes no tasks but answers every request the loop makes through
 * it (the transport: each request ends in a reply or a failure event) is wedged when a request
 * has had no event at all from it for its time-out plus {@link #STALL_NANOS} ({@link Answers}).
 * The loop calls {@link #check} on each turn, feeds the watchdog only while it
 * answers null, and stops the agent (exit 1, so that systemd restarts it) as soon as it does not.
 * Threads are found through their objects or, for an adapter that does not expose them (the
 * transport), by the name it documents.
 */
final class ThreadWatch {
    private static final Logger log = LoggerFactory.getLogger(ThreadWatch.class);
    static final long PROBE_INTERVAL_NANOS = 2_000_000_000L;
    static final long STALL_NANOS = 10_000_000_000L;
    /** A loop turn later than this says the whole process was stopped or starved: restart the probes. */
    static final long LOOP_GAP_NANOS = 2_000_000_000L;

    private final List<Watched> watched = new CopyOnWriteArrayList<>();
    private final List<Answers> answering = new CopyOnWriteArrayList<>();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final Runnable wake;
    private long lastCheckNanos = Long.MIN_VALUE;

    /** @param wake wakes the loop (for example by queueing a tick) so that a failure is acted on at once */
    ThreadWatch(Runnable wake) {
        this.wake = wake;
    }

    private static final class Watched {
        final String what;
        final Thread thread;
        final Consumer<Runnable> runOnThread;   // null: liveness only
        long askedSeq;
        long askedAtNanos = -1;
        volatile long answeredSeq;

        Watched(String what, Thread thread, Consumer<Runnable> runOnThread) {
            this.what = what;
            this.thread = thread;
            this.runOnThread = runOnThread;
        }
    }

    /** Watches {@code thread} for death. */
    void watch(String what, Thread thread) {
        watch(what, thread, (Consumer<Runnable>) null);
    }

    /**
     * Watches {@code thread} for death and, when {@code runOnThread} is given (it runs a task on
     * that thread without blocking the caller), for progress.
     */
    void watch(String what, Thread thread, Consumer<Runnable> runOnThread) {
        if (thread == null) throw new IllegalArgumentException("no thread to watch for " + what);
        thread.setUncaughtExceptionHandler((t, e) -> {
            log.error("the {} thread ({}) failed: {}", what, t.getName(), e.toString(), e);
            fail("the " + what + " thread (" + t.getName() + ") failed: " + e);
        });
        watched.add(new Watched(what, thread, runOnThread));
    }

    /**
     * Progress of a thread that owes the loop an event for every request (see the class comment).
     * {@link #asked} on the loop's thread, {@link #answered} on the adapter's.
     */
    static final class Answers {
        final String what;
        final long limitNanos;
        private volatile long answeredCount;
        private long seenCount;              // the loop's
        private long unansweredSinceNanos = -1;

        Answers(String what, long limitNanos) {
            this.what = what;
            this.limitNanos = limitNanos;
        }

        /** The loop made a request through the thread at {@code nowNanos}. */
        void asked(long nowNanos) {
            if (unansweredSinceNanos < 0) unansweredSinceNanos = nowNanos;
        }

        /** The thread delivered an event (any: it is making progress); from that one thread only. */
        void answered() {
            answeredCount = answeredCount + 1;   // a single writer: a volatile write is enough
        }

        /** Why the thread is wedged, or null. */
        private String check(long nowNanos, boolean gap) {
            long n = answeredCount;
            if (n != seenCount) {
                seenCount = n;
                unansweredSinceNanos = -1;
                return null;
            }
            if (unansweredSinceNanos < 0) return null;
            if (gap) {
                unansweredSinceNanos = nowNanos;
                return null;
            }
            long silent = nowNanos - unansweredSinceNanos;
            return silent > limitNanos ? "the " + what + " delivered nothing for " + silent / 1_000_000
                    + " ms, not even the failure of a request" : null;
        }
    }

    /**
     * Answers for requests through the {@code what} thread: a request with no event from it for
     * {@code requestTimeoutNanos} plus {@link #STALL_NANOS} means it is wedged. Made before the
     * thread starts (its events feed {@link Answers#answered}); see {@link #watch(String, Thread, Answers)}.
     */
    static Answers answers(String what, long requestTimeoutNanos) {
        return new Answers(what, requestTimeoutNanos + STALL_NANOS);
    }

    /** Watches {@code thread} for death and for {@code answers}. */
    void watch(String what, Thread thread, Answers answers) {
        watch(what, thread);
        answering.add(answers);
    }

    /** The live thread named {@code name} (an adapter's documented thread name), or null. */
    static Thread findThread(String name) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(name) && t.isAlive()) return t;
        }
        return null;
    }

    /** Records the first failure and wakes the loop; safe from any thread. */
    void fail(String why) {
        if (failure.compareAndSet(null, why)) {
            try {
                wake.run();
            } catch (RuntimeException e) {
                log.warn("could not wake the event loop: {}", e.toString());
            }
        }
    }

    /**
     * Called by the loop on each turn: null while every watched thread is alive and has run its
     * latest probe in time; otherwise why not (and from then on).
     */
    String check(long nowNanos) {
        boolean gap = lastCheckNanos != Long.MIN_VALUE && nowNanos - lastCheckNanos > LOOP_GAP_NANOS;
        lastCheckNanos = nowNanos;
        if (failure.get() != null) return failure.get();
        for (Answers a : answering) {
            String why = a.check(nowNanos, gap);
            if (why != null) {
                fail(why);
                return failure.get();
            }
        }
        for (Watched w : watched) {
            if (!w.thread.isAlive()) {
                fail("the " + w.what + " thread (" + w.thread.getName() + ") is gone");
                break;
            }
            if (w.runOnThread == null) continue;
            boolean answered = w.answeredSeq == w.askedSeq;
            if (!answered && gap) {
                w.askedAtNanos = nowNanos;   // the whole process was stopped: give the thread its time again
            } else if (!answered && nowNanos - w.askedAtNanos > STALL_NANOS) {
                fail("the " + w.what + " thread (" + w.thread.getName() + ") made no progress for "
                        + (nowNanos - w.askedAtNanos) / 1_000_000 + " ms");
                break;
            } else if (answered && (w.askedAtNanos < 0 || nowNanos - w.askedAtNanos >= PROBE_INTERVAL_NANOS)) {
                long seq = ++w.askedSeq;
                w.askedAtNanos = nowNanos;
                try {
                    w.runOnThread.accept(() -> w.answeredSeq = seq);
                } catch (RuntimeException e) {
                    fail("the " + w.what + " thread (" + w.thread.getName() + ") refused a task: " + e);
                    break;
                }
            }
        }
        return failure.get();
    }

    /** The first failure, or null. */
    String failure() {
        return failure.get();
    }
}
