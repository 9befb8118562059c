package io.quorumd.storage;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.TermState;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes term states on its own thread ({@code quorumd-persister}) so that an fsync never stalls the
 * event loop, and reports each outcome to the loop's queue as an event.
 *
 * <p>Acknowledgements are cumulative. Submits that queue up while a write is in progress are
 * coalesced: only the newest state is written (a newer term state supersedes every older one), and
 * only its sequence number is reported. So {@link Event.Persisted}{@code (n)} means every submit with
 * a sequence number up to {@code n} is durable, and {@link Event.PersistFailed}{@code (n, reason)}
 * means no submit after the last acknowledged one, up to {@code n}, is known to be durable. Events
 * arrive in increasing {@code seq} order. A failure (full disk, I/O error) is reported, never
 * thrown; nothing is retried by itself: the next submit writes again, so the caller re-submits
 * (with a new {@code seq}) when it wants to retry.
 */
public final class Persister implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Persister.class);
    private static final long SLOW_WRITE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long CLOSE_WAIT_MILLIS = 10_000;

    private final StateFile file;
    private final Consumer<Event> sink;
    /** Takes each successful write's duration (the metrics' fsync histogram); null: nobody. */
    private volatile java.util.function.LongConsumer writeObserver;
    private final Thread thread;
    private final Object lock = new Object();
    // guarded by lock
    private long lastSubmitted = Long.MIN_VALUE;
    private long pendingSeq;
    private TermState pending;
    private boolean closing;
    private volatile String lastError;

    /**
     * Starts the writer thread.
     *
     * @param sink receives {@link Event.Persisted} and {@link Event.PersistFailed}, on the writer
     *             thread: it should only enqueue (for example the agent's event queue)
     */
    public Persister(StateFile file, Consumer<Event> sink) {
        this.file = file;
        this.sink = sink;
        this.thread = new Thread(this::run, "quorumd-persister");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues {@code state} for writing and returns at once.
     *
     * @param seq must be greater than every earlier submit's
     */
    public void submit(long seq, TermState state) {
        synchronized (lock) {
            if (seq <= lastSubmitted)
                throw new IllegalArgumentException("persist seq must grow: " + lastSubmitted + " then " + seq);
            lastSubmitted = seq;
            if (!closing) {
                pendingSeq = seq;
                pending = state;
                lock.notifyAll();
                return;
            }
        }
        deliver(new Event.PersistFailed(seq, "the agent is shutting down; " + file.path() + " was not written"));
    }

    /** {@link #submit(long, TermState)} for the core's effect. */
    public void submit(Effect.Persist p) {
        submit(p.seq(), new TermState(p.term(), p.votedFor()));
    }

    /** The writer thread (for the agent's watch over its threads). */
    public Thread thread() {
        return thread;
    }

    /** True unless the last write failed. */
    public boolean healthy() {
        return lastError == null;
    }

    /** The reason the last write failed, or null if it succeeded (or none was made yet). */
    public String lastError() {
        return lastError;
    }

    /** Each successful write's duration in nanoseconds goes to {@code o} (on the writer thread). */
    public void observeWrites(java.util.function.LongConsumer o) {
        this.writeObserver = o;
    }

    /**
     * Writes what is still queued, then stops the thread. Waits at most 10 s: a disk that hangs in
     * fsync must not hang the agent's exit as well.
     */
    @Override
    public void close() {
        synchronized (lock) {
            closing = true;
            lock.notifyAll();
        }
        try {
            thread.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) log.warn("the state file writer is still busy with {} after {} ms; not waiting for it",
                file.path(), CLOSE_WAIT_MILLIS);
    }

    private void run() {
        while (true) {
            long seq;
            TermState state;
            synchronized (lock) {
                while (pending == null && !closing) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        // only close() ends this thread, after the queue is drained
                    }
                }
                if (pending == null) return;
                seq = pendingSeq;
                state = pending;
                pending = null;
            }
            write(seq, state);
        }
    }

    private void write(long seq, TermState state) {
        long t0 = System.nanoTime();
        try {
            file.store(state);
        } catch (IOException | RuntimeException e) {
            String reason = e.getMessage() == null ? e.toString() : e.getMessage();
            if (!reason.equals(lastError)) log.error("{} (term {}, seq {}); this node neither votes nor campaigns "
                    + "until a write succeeds", reason, state.term(), seq);
            lastError = reason;
            deliver(new Event.PersistFailed(seq, reason));
            return;
        }
        long took = System.nanoTime() - t0;
        java.util.function.LongConsumer o = writeObserver;
        if (o != null) o.accept(took);
        if (lastError != null) log.info("{} is written again (term {})", file.path(), state.term());
        lastError = null;
        if (took > SLOW_WRITE_NANOS)
            log.warn("writing {} took {} ms (fsync); elections wait for it", file.path(), took / 1_000_000);
        deliver(new Event.Persisted(seq));
    }

    private void deliver(Event e) {
        try {
            sink.accept(e);
        } catch (RuntimeException ex) {
            log.error("the event sink refused {}: {}", e, ex.toString());
        }
    }
}
