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
 * <p><b>Compaction.</b> {@link Effect.CompactLog} goes through the same queue, so it runs in order
 * after the writes issued before it: the segments a durable snapshot covers are deleted
 * ({@link LogStorage#compactPrefix}), every stored entry with {@code discardAll}. It is never
 * acknowledged; a failed one leaves the storage unusable like a failed write.
 *
 * <p><b>Failure.</b> A failed write, truncation, compaction or fsync acknowledges nothing of its
 * batch: each of its writes is answered with {@link Event.LogPersistFailed}, and so is every later
 * one (after a failed fsync what reached the disk is unknown until the log is reopened), until the
 * core's rewrite comes: a write whose {@code truncateFrom} is at or below the stored last index + 1.
 * Then the writer reopens the log (reading it back and checking it, as at start, with the base of the
 * last compaction), truncates from there, appends and syncs. The failure is logged as an error,
 * counted ({@link #failures}) and kept as {@link #lastError} for {@code quorumd status} until a
 * rewrite succeeds.
 */
public final class LogWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogWriter.class);
    private static final long SLOW_BATCH_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long CLOSE_WAIT_MILLIS = 10_000;

    /** Opens the log again after a failure, with the snapshot base {@code baseIndex}. */
    @FunctionalInterface
    public interface Reopen {
        LogStorage open(long baseIndex) throws IOException;
    }

    private LogStorage storage;   // the writer thread's (and close()'s once it ended)
    private final Reopen reopen;
    private long baseIndex;       // the last compaction's index: what a reopen drops
    private boolean broken;       // the writer thread's: every write fails until the core's rewrite reopens
    private final Consumer<Event> sink;
    private final Thread thread;
    private final Object lock = new Object();
    // guarded by lock
    private final List<Effect> queue = new ArrayList<>();
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
        this(storage, 0, base -> {
            throw new IOException("this log writer cannot reopen its log");
        }, sink);
    }

    /**
     * Starts the writer thread over an opened storage (which it then owns and closes).
     *
     * @param baseIndex the snapshot base the storage was opened with
     * @param reopen    opens the log again after a failure (the core's rewrite)
     * @param sink      receives {@link Event.LogPersisted} and {@link Event.LogPersistFailed} on the
     *                  writer thread: it should only enqueue
     */
    public LogWriter(LogStorage storage, long baseIndex, Reopen reopen, Consumer<Event> sink) {
        this.storage = storage;
        this.baseIndex = baseIndex;
        this.reopen = reopen;
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

    /** Queues {@code c}, to run after the writes submitted before it, and returns at once. */
    public void compact(Effect.CompactLog c) {
        synchronized (lock) {
            if (closing) return;   // compaction is never needed: recovery compacts to the snapshot
            queue.add(c);
            lock.notifyAll();
        }
    }

    /** The writer thread (for the agent's watch over its threads). */
    public Thread thread() {
        return thread;
    }

    /** True unless a write failed (then nothing is acknowledged until the core's rewrite succeeds). */
    public boolean healthy() {
        return lastError == null;
    }

    /** Why the log cannot be written, or null. */
    public String lastError() {
        return lastError;
    }

    /** Failed batches (a failed write, compaction or fsync, and each batch refused until the core's rewrite). */
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
            if (storage != null) storage.close();
        } catch (IOException e) {
            log.warn("closing the log: {}", e.toString());
        }
    }

    private void run() {
        List<Effect> batch = new ArrayList<>();
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

    private void write(List<Effect> batch) {
        List<Effect.PersistLog> writes = new ArrayList<>();
        for (Effect e : batch) if (e instanceof Effect.PersistLog p) writes.add(p);
        long t0 = System.nanoTime();
        String failed = null;
        int done = 0;
        int refused = 0;   // writes refused while broken, before the core's rewrite in this batch
        String before = lastError;
        try {
            for (Effect e : batch) {
                if (e instanceof Effect.CompactLog c) {
                    compactNow(c);
                } else {
                    Effect.PersistLog p = (Effect.PersistLog) e;
                    if (broken && !rewrite(p)) {
                        refused++;
                        done++;
                        continue;
                    }
                    if (p.truncateFrom() > 0) storage.truncateSuffix(p.truncateFrom());
                    List<LogEntry> entries = p.entries();
                    if (!entries.isEmpty()) storage.append(entries);
                }
                done++;
            }
            if (!broken && !writes.isEmpty()) storage.sync();   // one fsync for the whole batch
        } catch (IOException | RuntimeException e) {
            failed = e.getMessage() == null ? e.toString() : e.getMessage();
            broken = true;
        }
        if (broken) {
            if (failed != null) {
                lastError = failed;
                log.error("the replicated log cannot be written ({}): this node acknowledges no log entry until the "
                        + "core rewrites its log and the writer reopens it", failed);
            }
            if (!writes.isEmpty()) {
                failures.incrementAndGet();
                if (failed == null)
                    log.warn("log writes {}..{} not made: the log cannot be written since: {}", writes.get(0).seq(),
                            writes.get(writes.size() - 1).seq(), lastError);
            }
            String reason = lastError;
            // the compactions after the failure are skipped: a reopen drops what they would have
            for (int k = done; k < batch.size(); k++)
                if (batch.get(k) instanceof Effect.CompactLog c) baseIndex = Math.max(baseIndex, c.upToIndex());
            for (Effect.PersistLog p : writes) deliver(new Event.LogPersistFailed(p.seq(), reason));
            return;
        }
        for (Effect.PersistLog p : writes.subList(0, refused)) deliver(new Event.LogPersistFailed(p.seq(), before));
        writes = writes.subList(refused, writes.size());
        if (writes.isEmpty()) return;
        long took = System.nanoTime() - t0;
        batches.incrementAndGet();
        this.writes.addAndGet(writes.size());
        if (took > SLOW_BATCH_NANOS)
            log.warn("writing {} log batch(es) took {} ms (fsync); commits wait for it", writes.size(), took / 1_000_000);
        for (Effect.PersistLog p : writes) deliver(new Event.LogPersisted(p.seq()));
    }

    private void compactNow(Effect.CompactLog c) throws IOException {
        baseIndex = Math.max(baseIndex, c.upToIndex());
        if (broken) return;   // a reopen compacts to baseIndex
        int deleted = storage.compactPrefix(c.upToIndex());
        // discardAll: the stored entries after it do not follow the installed snapshot either
        if (c.discardAll() && storage.lastIndex() > c.upToIndex()) storage.truncateSuffix(c.upToIndex() + 1);
        storage.rollAtNextAppend();   // what follows goes to a segment the next compaction deletes whole
        if (deleted > 0 || c.discardAll())
            log.info("log compacted up to index {}{}: {} segment(s) deleted", c.upToIndex(),
                    c.discardAll() ? " (every stored entry: a snapshot from the master replaced it)" : "", deleted);
    }

    /**
     * While broken: is {@code p} the core's rewrite (its truncation at or below the stored last index +
     * 1 of the reopened log)? Reopens the log to see; false (the write fails) when it is not.
     */
    private boolean rewrite(Effect.PersistLog p) throws IOException {
        if (p.truncateFrom() <= 0) return false;
        try {
            if (storage != null) storage.close();
        } catch (IOException e) {
            log.warn("closing the failed log: {}", e.toString());
        }
        storage = null;
        LogStorage s = reopen.open(baseIndex);
        if (p.truncateFrom() > s.lastIndex() + 1) {
            s.close();
            return false;
        }
        storage = s;
        broken = false;
        lastError = null;
        log.info("the replicated log is reopened (it ends at index {}); rewriting it from index {}", s.lastIndex(),
                p.truncateFrom());
        return true;
    }

    private void deliver(Event e) {
        try {
            sink.accept(e);
        } catch (RuntimeException ex) {
            log.error("the event sink refused {}: {}", e, ex.toString());
        }
    }
}
