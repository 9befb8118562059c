package io.quorumd.storage;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.log.LogEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Writes the replicated log on its own thread ({@code quorumd-log-writer}), so that an fsync never
 * stalls the event loop, and reports each write to the loop's queue as {@link Event.LogPersisted},
 * as {@link Persister} does for the term file.
 *
 * <p><b>Group commit.</b> The thread takes every {@link Effect.PersistLog} queued so far, applies
 * them in order to {@link LogStorage} (a truncation, then the appends), makes the whole batch
 * durable with <em>one</em> {@link LogStorage#sync} (one fsync), and only then posts
 * {@code LogPersisted(seq)} for each of them, in sequence order. Writes that queue up during an
 * fsync go into the next batch: under load, one fsync covers many client writes.
 *
 * <p><b>Failure.</b> A failed write, truncation or fsync acknowledges nothing: neither the batch
 * nor anything after it (the storage refuses further use; after a failed fsync what reached the disk
 * is unknown until the agent restarts and reopens the log). The failure is logged as an error,
 * counted ({@link #failures}) and kept as {@link #lastError} for {@code quorumd status}; the core
 * never hears that the entries are durable, so this node neither acknowledges them to a master nor
 * counts them for a commit, and the client requests waiting on them fail ("outcome unknown") at
 * their deadline.
 */
public final class LogWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogWriter.class);
    private static final long SLOW_BATCH_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long CLOSE_WAIT_MILLIS = 10_000;

    private final LogStorage storage;
    private final Consumer<Event> sink;
    private final Thread thread;
    private final Object lock = new Object();
    // guarded by lock
    private final List<Effect.PersistLog> queue = new ArrayList<>();
    private long lastSubmitted = Long.MIN_VALUE;
    private boolean closing;

    private volatile String lastError;
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();

    /**
     * Starts the writer thread over an opened storage (which it then owns and closes).
     *
     * @param sink receives {@link Event.LogPersisted} on the writer thread: it should only enqueue
     */
    public LogWriter(LogStorage storage, Consumer<Event> sink) {
        this.storage = storage;
        this.sink = sink;
        this.thread = new Thread(this::run, "quorumd-log-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues {@code p} and returns at once.
     *
     * @throws IllegalArgumentException a sequence number not above the previous one
     */
    public void submit(Effect.PersistLog p) {
        synchronized (lock) {
            if (p.seq() <= lastSubmitted)
                throw new IllegalArgumentException("log persist seq must grow: " + lastSubmitted + " then " + p.seq());
            lastSubmitted = p.seq();
            if (closing) {
                log.warn("log write {} not made: the agent is shutting down", p.seq());
                return;
            }
            queue.add(p);
            lock.notifyAll();
        }
    }

    /** The writer thread (for the agent's watch over its threads). */
    public Thread thread() {
        return thread;
    }

    /** True unless a write failed (then nothing is acknowledged until the agent restarts). */
    public boolean healthy() {
        return lastError == null;
    }

    /** Why the log cannot be written, or null. */
    public String lastError() {
        return lastError;
    }

    /** Failed batches (at most one: after it the storage refuses further use, and later batches are refused). */
    public long failures() {
        return failures.get();
    }

    /** Batches made durable, each with one fsync. */
    public long batches() {
        return batches.get();
    }

    /** {@link Effect.PersistLog}s made durable. */
    public long writes() {
        return writes.get();
    }

    /** Writes what is queued, then stops the thread and closes the storage; waits at most 10 s. */
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
        if (thread.isAlive()) {
            log.warn("the log writer is still busy after {} ms; not waiting for it", CLOSE_WAIT_MILLIS);
            return;
        }
        try {
            storage.close();
        } catch (IOException e) {
            log.warn("closing the log: {}", e.toString());
        }
    }

    private void run() {
        List<Effect.PersistLog> batch = new ArrayList<>();
        while (true) {
            synchronized (lock) {
                while (queue.isEmpty() && !closing) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        // only close() ends this thread, after the queue is drained
                    }
                }
                if (queue.isEmpty()) return;
                batch.addAll(queue);
                queue.clear();
            }
            write(batch);
            batch.clear();
        }
    }

    private void write(List<Effect.PersistLog> batch) {
        long first = batch.get(0).seq();
        long last = batch.get(batch.size() - 1).seq();
        if (lastError != null) {
            log.error("log writes {}..{} not made: the log cannot be written since: {}", first, last, lastError);
            return;
        }
        long t0 = System.nanoTime();
        try {
            for (Effect.PersistLog p : batch) {
                if (p.truncateFrom() > 0) storage.truncateSuffix(p.truncateFrom());
                List<LogEntry> entries = p.entries();
                if (!entries.isEmpty()) storage.append(entries);
            }
            storage.sync();   // one fsync for the whole batch
        } catch (IOException | RuntimeException e) {
            String reason = e.getMessage() == null ? e.toString() : e.getMessage();
            lastError = reason;
            failures.incrementAndGet();
            log.error("the replicated log cannot be written ({}; writes {}..{}): this node acknowledges no log entry "
                    + "from now on; restart the agent once the disk is fixed (it reopens and checks the log)", reason,
                    first, last);
            return;
        }
        long took = System.nanoTime() - t0;
        batches.incrementAndGet();
        writes.addAndGet(batch.size());
        if (took > SLOW_BATCH_NANOS)
            log.warn("writing {} log batch(es) took {} ms (fsync); commits wait for it", batch.size(), took / 1_000_000);
        for (Effect.PersistLog p : batch) deliver(new Event.LogPersisted(p.seq()));
    }

    private void deliver(Event e) {
        try {
            sink.accept(e);
        } catch (RuntimeException ex) {
            log.error("the event sink refused {}: {}", e, ex.toString());
        }
    }
}
