package io.quorumd.storage;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The agent's side of the core's snapshots, on its own thread ({@code quorumd-snapshot-writer}) so
 * that writing a large snapshot never stalls the event loop; each outcome goes back to the loop's
 * queue as an event.
 *
 * <ul>
 *   <li>{@link #take}: the store's bytes at the snapshot's index (taken on the loop, where the store
 *       is exactly at that index) are written durably ({@link SnapshotStore#store(SnapshotStore.Snapshot, boolean)}:
 *       CRC, fsync, atomic rename, directory fsync), then {@link Event.SnapshotTaken}, or
 *       {@link Event.SnapshotFailed}.
 *   <li>{@link #storeChunk}: a chunk of the master's snapshot. What travels is the snapshot file
 *       itself (header, data, CRC-32C), so a follower writes the chunks to
 *       {@code snapshot-<index>-<term>.recv}, and on the last one fsyncs it, checks it like a
 *       stored snapshot (header, checksum) and the data with the {@link Verifier} (it restores),
 *       renames it into place (it becomes current unless a newer snapshot is held), and reports
 *       {@link Event.SnapshotReceived}, or {@link Event.SnapshotFailed} for a damaged stream.
 *   <li>{@link #readChunk} (on the loop): a master reads a chunk of a stored snapshot file to send.
 * </ul>
 *
 * <p>The previous snapshot stays on disk next to the current one (the core may still be sending it
 * until it has handled the new one's event), and so does every received snapshot whose
 * {@link Event.SnapshotReceived} the loop has not handled yet ({@link #handled}: the core may ask to
 * restore it even after newer ones came in); the others go when a snapshot is stored.
 * {@link SnapshotStore#load} keeps only the newest at the next start.
 */
public final class SnapshotWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SnapshotWriter.class);
    private static final long CLOSE_WAIT_MILLIS = 10_000;

    /** Checks that a snapshot's data restores (the store's format); throws when it does not. */
    @FunctionalInterface
    public interface Verifier {
        void verify(byte[] data) throws Exception;
    }

    /** Bytes read from a stored snapshot file at an offset, and whether they end it. */
    public record Chunk(byte[] data, boolean last) {}

    private record Take(long index, long term, byte[] data) {}

    private final SnapshotStore store;
    private final Verifier verifier;
    private final Consumer<Event> sink;
    private final Thread thread;
    private final Object lock = new Object();
    // guarded by lock
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private boolean closing;

    private volatile long currentIndex;
    private volatile long currentTerm;
    private volatile String lastError;
    private final AtomicLong taken = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    /**
     * Received snapshots whose {@link Event.SnapshotReceived} the loop has not handled yet: the core
     * may ask to restore any of them, so none is deleted before ({@link #handled}).
     */
    private final java.util.Set<Long> pinned = java.util.concurrent.ConcurrentHashMap.newKeySet();

    // the snapshot being received: the writer thread's own
    private FileChannel partial;
    private Path partialPath;
    private long partialIndex = -1;
    private long partialTerm = -1;
    private long partialSize;
    private String partialBroken;

    /**
     * Starts the writer thread.
     *
     * @param currentIndex the snapshot loaded at start (0, 0 without one)
     * @param sink         receives the events on the writer thread: it should only enqueue
     */
    public SnapshotWriter(SnapshotStore store, long currentIndex, long currentTerm, Verifier verifier, Consumer<Event> sink) {
        this.store = store;
        this.verifier = verifier;
        this.sink = sink;
        this.currentIndex = currentIndex;
        this.currentTerm = currentTerm;
        this.thread = new Thread(this::run, "quorumd-snapshot-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues the durable write of snapshot {@code index} ({@code data}: the store's bytes at it). */
    public void take(long index, long term, byte[] data) {
        enqueue(new Take(index, term, data));
    }

    /** Queues one chunk of a snapshot received from the master. */
    public void storeChunk(Effect.StoreSnapshotChunk chunk) {
        enqueue(chunk);
    }

    private void enqueue(Object task) {
        synchronized (lock) {
            if (closing) {
                log.warn("snapshot task not done: the agent is shutting down");
                return;
            }
            queue.add(task);
            lock.notifyAll();
        }
    }

    /**
     * At most {@code max} bytes of the stored snapshot {@code index}, {@code term} from {@code offset};
     * null when that snapshot is not held (any more) or the offset is past its end.
     */
    public Chunk readChunk(long index, long term, long offset, int max) {
        Path p = store.path(index, term);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            if (offset < 0 || offset > size) return null;
            int n = (int) Math.min(max, size - offset);
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) return null;   // cut meanwhile: never, it is renamed whole
            }
            return new Chunk(b.array(), offset + n == size);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            log.warn("cannot read snapshot {}: {}", p, StateFile.describe(e));
            return null;
        }
    }

    /**
     * The stored snapshot {@code index}, {@code term}, read and checked (for a restore).
     *
     * @throws NoSuchFileException it is not held
     */
    public SnapshotStore.Snapshot load(long index, long term) throws LogCorruptException, IOException {
        return store.read(index, term);
    }

    /**
     * The loop has handled {@code e} (the core restored the snapshot it reports, or decided not to):
     * a received snapshot may go once a newer one is stored.
     */
    public void handled(Event.SnapshotReceived e) {
        pinned.remove(e.index());
    }

    /** The index of the newest snapshot held (0: none). */
    public long currentIndex() {
        return currentIndex;
    }

    /** The term of the entry the newest snapshot ends with (0: none). */
    public long currentTerm() {
        return currentTerm;
    }

    /** Snapshots taken and made durable. */
    public long taken() {
        return taken.get();
    }

    /** Snapshots received from a master, verified and made durable. */
    public long received() {
        return received.get();
    }

    /** Snapshots that could not be taken or received. */
    public long failures() {
        return failures.get();
    }

    /** Why the last snapshot failed, or null. */
    public String lastError() {
        return lastError;
    }

    /** The writer thread (for the agent's watch over its threads). */
    public Thread thread() {
        return thread;
    }

    /** Finishes what is queued, then stops the thread (waits at most 10 s) and drops a partial snapshot. */
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
            log.warn("the snapshot writer is still busy after {} ms; not waiting for it", CLOSE_WAIT_MILLIS);
            return;
        }
        dropPartial();
    }

    private void run() {
        while (true) {
            Object task;
            synchronized (lock) {
                while (queue.isEmpty() && !closing) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        // only close() ends this thread, after the queue is drained
                    }
                }
                if (queue.isEmpty()) return;
                task = queue.poll();
            }
            try {
                if (task instanceof Take t) write(t);
                else chunk((Effect.StoreSnapshotChunk) task);
            } catch (RuntimeException e) {
                // never let the thread die: the core hears of a failure and tries again later
                long index = task instanceof Take t ? t.index() : ((Effect.StoreSnapshotChunk) task).index();
                log.error("snapshot {}: {}", index, e.toString(), e);
                fail(index, e.toString());
            }
        }
    }

    private void write(Take t) {
        long t0 = System.nanoTime();
        try {
            store.store(new SnapshotStore.Snapshot(t.index(), t.term(), t.data()), true, pinned::contains);
        } catch (IOException | RuntimeException e) {
            fail(t.index(), "cannot write snapshot " + t.index() + ": " + StateFile.describe(e));
            return;
        }
        held(t.index(), t.term());
        taken.incrementAndGet();
        lastError = null;
        log.info("snapshot at index {} (term {}) taken: {} bytes in {} ms; the log up to it may go", t.index(), t.term(),
                t.data().length, (System.nanoTime() - t0) / 1_000_000);
        deliver(new Event.SnapshotTaken(t.index(), t.term()));
    }

    private void chunk(Effect.StoreSnapshotChunk c) {
        if (c.offset() == 0) {
            dropPartial();
            partialPath = store.receivingPath(c.index(), c.term());
            partialIndex = c.index();
            partialTerm = c.term();
            partialSize = 0;
            partialBroken = null;
            try {
                partial = FileChannel.open(partialPath, EnumSet.of(StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
            } catch (IOException | RuntimeException e) {
                partialBroken = "cannot create " + partialPath + ": " + StateFile.describe(e);
            }
        } else if (partialPath == null || partialIndex != c.index() || partialTerm != c.term()) {
            // a chunk of no transfer under way (the core starts one at offset 0): report it on its last chunk
            if (c.done()) fail(c.index(), "the last chunk of snapshot " + c.index() + " came without its first");
            return;
        } else if (partialBroken == null && partialSize != c.offset()) {
            partialBroken = "a chunk at offset " + c.offset() + " came where " + partialSize + " was due";
        }
        byte[] data = c.data();
        if (partialBroken == null) {
            try {
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) partial.write(b);
                partialSize += data.length;
            } catch (IOException | RuntimeException e) {
                partialBroken = "cannot write " + partialPath + ": " + StateFile.describe(e);
            }
        }
        if (!c.done()) return;
        long index = c.index();
        long term = c.term();
        if (partialBroken != null) {
            String why = partialBroken;
            dropPartial();
            fail(index, "snapshot " + index + " from " + c.from() + " not stored: " + why);
            return;
        }
        Path p = partialPath;
        try {
            partial.force(true);
            partial.close();
            partial = null;
            SnapshotStore.Snapshot s = store.read(p, index, term);   // header, length, CRC-32C
            verifier.verify(s.data());                                 // and the store's own format
            // in place even when a newer snapshot is held (that one stays current): the core may still
            // ask to restore this one; the next snapshot stored, or the next start, removes it
            pinned.add(index);   // before it is reported: kept until the core has handled the report
            store.install(p, index, term, true, pinned::contains);
            held(index, term);
        } catch (LogCorruptException e) {
            pinned.remove(index);
            dropPartial();
            fail(index, "snapshot " + index + " from " + c.from() + " is damaged (byte " + e.offset() + ": " + e.problem()
                    + "); not kept");
            return;
        } catch (Exception e) {
            pinned.remove(index);
            dropPartial();
            fail(index, "snapshot " + index + " from " + c.from() + " not stored: " + StateFile.describe(e));
            return;
        }
        partialPath = null;
        partialIndex = -1;
        partialTerm = -1;
        received.incrementAndGet();
        lastError = null;
        log.info("snapshot at index {} (term {}) received from {}: {} bytes, verified and durable", index, term, c.from(),
                partialSize);
        deliver(new Event.SnapshotReceived(index, term));
    }

    private void held(long index, long term) {
        if (index > currentIndex) {
            currentTerm = term;
            currentIndex = index;
        }
    }

    private void dropPartial() {
        if (partial != null) {
            try {
                partial.close();
            } catch (IOException ignored) {
                // it is deleted next
            }
            partial = null;
        }
        if (partialPath != null) {
            try {
                Files.deleteIfExists(partialPath);
            } catch (IOException e) {
                log.warn("cannot delete {}: {} (the next start removes it)", partialPath, StateFile.describe(e));
            }
            partialPath = null;
        }
        partialIndex = -1;
        partialTerm = -1;
    }

    private void fail(long index, String reason) {
        failures.incrementAndGet();
        lastError = reason;
        log.error("{}", reason);
        deliver(new Event.SnapshotFailed(index, reason));
    }

    private void deliver(Event e) {
        try {
            sink.accept(e);
        } catch (RuntimeException ex) {
            log.error("the event sink refused {}: {}", e, ex.toString());
        }
    }
}
