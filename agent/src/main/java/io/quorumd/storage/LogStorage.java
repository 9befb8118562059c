package io.quorumd.storage;

import io.quorumd.log.LogEntry;
import io.quorumd.storage.LogSegment.Segment;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.TreeMap;

/**
 * The replicated log on disk: append-only segment files in {@code state_dir/log/} (format in
 * {@code package-info.java}). {@link #append} writes a batch, {@link #sync} makes everything
 * written so far durable with one fsync (group commit), a segment rolls past a size, and
 * {@link #truncateSuffix} / {@link #compactPrefix} remove a follower's conflicting tail and the
 * segments a durable snapshot covers.
 *
 * <p>{@link #open} reads every segment back and checks it: a torn tail in the last segment (a crash
 * mid-write, never acknowledged) is truncated and reported as a note for the caller to log; any
 * other damage throws {@link LogCorruptException}. After a failed write or fsync the storage
 * refuses further use: what reached the disk is then unknown until it is reopened (by the log writer
 * on the core's rewrite, or at the next start)
 * (a failed fsync may have dropped the pages it could not write, so retrying would lie).
 *
 * <p>Not thread-safe: one writer (the loop's persist step) at a time; {@link StateDirLock} keeps
 * other agents out of the directory.
 */
public final class LogStorage implements Closeable {
    public static final String DIR_NAME = "log";
    public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;

    /**
     * An opened log: the storage, the entries after the snapshot base in order, and what open
     * repaired or noticed (a truncated torn tail, an interrupted compaction finished), for the
     * caller to log; {@code termAtBase} is the term of the stored entry at the snapshot base, 0 when
     * the log does not hold it (it starts right after the base, or is empty).
     */
    public record Opened(LogStorage storage, List<LogEntry> entries, List<String> notes, long termAtBase) {
        public Opened {
            entries = List.copyOf(entries);
            notes = List.copyOf(notes);
        }
    }

    private final Path dir;
    private final Disk disk;
    private final long segmentBytesMax;
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    private FileChannel current;   // the last segment's, or null when there is none
    private long baseIndex;
    private long nextIndex;
    private long lastTerm;         // 0 when no entry after the base is known
    private long durableIndex;
    private String broken;
    private boolean rollPending;   // the next append starts a new segment (set after a compaction)

    private LogStorage(Path dir, Disk disk, long segmentBytesMax, long baseIndex) {
        this.dir = dir;
        this.disk = disk;
        this.segmentBytesMax = segmentBytesMax;
        this.baseIndex = baseIndex;
    }

    /**
     * Opens (creating when missing) {@code stateDir/log}.
     *
     * @param baseIndex       the index the loaded snapshot covers (0 without one): segments wholly at
     *                        or below it are the leftovers of an interrupted compaction and go; the
     *                        first remaining segment must start at or before {@code baseIndex + 1}
     * @param segmentBytesMax a segment rolls once it holds this many bytes
     * @throws LogCorruptException any damage but a torn tail, naming the file and offset
     * @throws IOException         the directory or a file cannot be read, written or fsynced
     */
    public static Opened open(Path stateDir, long baseIndex, long segmentBytesMax) throws LogCorruptException, IOException {
        return open(stateDir, baseIndex, segmentBytesMax, Disk.REAL);
    }

    /** {@link #open(Path, long, long)} on {@code disk} (the tests' failing disk; {@link Disk#REAL} otherwise). */
    static Opened open(Path stateDir, long baseIndex, long segmentBytesMax, Disk disk) throws LogCorruptException, IOException {
        if (baseIndex < 0) throw new IllegalArgumentException("baseIndex must be >= 0 (got " + baseIndex + ")");
        if (segmentBytesMax < LogSegment.HEADER_BYTES + 1)
            throw new IllegalArgumentException("segmentBytesMax is too small (got " + segmentBytesMax + ")");
        Path dir = stateDir.resolve(DIR_NAME);
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            disk.fsyncDirectory(stateDir);
        }
        LogRecovery.Recovered r = LogRecovery.recover(dir, baseIndex, disk);
        LogStorage s = new LogStorage(dir, disk, segmentBytesMax, baseIndex);
        s.segments.putAll(r.segments());
        try {
            if (s.segments.isEmpty()) {
                s.nextIndex = baseIndex + 1;
                s.lastTerm = 0;
            } else {
                Segment last = s.segments.lastEntry().getValue();
                s.nextIndex = last.lastIndex + 1;
                s.lastTerm = last.lastTerm;
                s.current = s.openForAppend(last);
                // what a crashed process wrote may still be only in the page cache: make it durable before counting it
                s.current.force(true);
            }
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        s.durableIndex = s.nextIndex - 1;
        return new Opened(s, r.entries(), r.notes(), r.termAtBase());
    }

    /** The index the next appended entry must have. */
    public long nextIndex() {
        return nextIndex;
    }

    /** The last index written (durable or not); the base when the log holds no entries. */
    public long lastIndex() {
        return nextIndex - 1;
    }

    /** The last index that an fsync covers. */
    public long durableIndex() {
        return durableIndex;
    }

    /**
     * Writes {@code batch} (contiguous from {@link #nextIndex()}, terms not going backwards) to the
     * page cache; {@link #sync} makes it durable. Rolls to a new segment past the size limit.
     *
     * @throws IOException the write failed (for example "No space left on device"); the storage is
     *                     then unusable until reopened
     */
    public void append(List<LogEntry> batch) throws IOException {
        usable();
        long expect = nextIndex;
        long term = lastTerm;
        int total = 0;
        for (LogEntry e : batch) {
            if (e.index() != expect)
                throw new IllegalArgumentException("log entry " + e.index() + " appended where " + expect + " is due");
            if (e.term() < term)
                throw new IllegalArgumentException("log entry " + e.index() + " has term " + e.term()
                        + ", below the term " + term + " before it");
            if (e.payloadSize() > LogSegment.MAX_PAYLOAD_BYTES)
                throw new IllegalArgumentException("log entry " + e.index() + " has " + e.payloadSize()
                        + " bytes of payload, more than the limit of " + LogSegment.MAX_PAYLOAD_BYTES);
            total = Math.addExact(total, LogSegment.recordBytes(e));
            expect++;
            term = e.term();
        }
        if (batch.isEmpty()) return;
        ByteBuffer all = ByteBuffer.allocate(total);
        try {
            int i = 0;
            while (i < batch.size()) {
                Segment seg = segments.isEmpty() ? null : segments.lastEntry().getValue();
                if (seg == null || ((seg.bytes >= segmentBytesMax || rollPending) && !seg.isEmpty()))
                    seg = roll(batch.get(i).index());
                int from = all.position();
                int j = i;
                long size = seg.bytes;
                while (j < batch.size() && (j == i || size < segmentBytesMax)) {
                    LogSegment.putRecord(all, batch.get(j));
                    size += LogSegment.recordBytes(batch.get(j));
                    j++;
                }
                ByteBuffer slice = all.duplicate().position(from).limit(all.position());
                write(seg, slice);
                LogEntry lastWritten = batch.get(j - 1);
                seg.bytes = size;
                seg.lastIndex = lastWritten.index();
                seg.lastTerm = lastWritten.term();
                nextIndex = lastWritten.index() + 1;
                lastTerm = lastWritten.term();
                i = j;
            }
        } catch (IOException | RuntimeException e) {
            if (broken == null) broken = "a write failed: " + StateFile.describe(e);
            throw e;
        }
    }

    /**
     * Makes everything appended so far durable with one fsync of the segment being written (a
     * rolled segment was fsynced when it was closed).
     *
     * @return the durable last index
     */
    public long sync() throws IOException {
        usable();
        if (durableIndex == nextIndex - 1) return durableIndex;
        Segment last = segments.isEmpty() ? null : segments.lastEntry().getValue();
        if (current != null && last != null) {
            try {
                current.force(false);   // fdatasync: also flushes the size the appends changed
            } catch (IOException e) {
                broken = "fsync of " + last.path + " failed: " + StateFile.describe(e);
                throw new IOException("cannot fsync log segment " + last.path + ": " + StateFile.describe(e), e);
            }
        }
        durableIndex = nextIndex - 1;
        return durableIndex;
    }

    /**
     * Removes the entries from {@code fromIndex} on (a follower's entries that conflict with the
     * master's), durably: later segments are deleted newest first, the one holding
     * {@code fromIndex} is cut and fsynced, and the directory is fsynced. Afterwards every entry
     * before {@code fromIndex} is durable.
     *
     * @throws IllegalArgumentException {@code fromIndex} is at or below the snapshot base (committed
     *                                  entries are never truncated) or past the end
     */
    public void truncateSuffix(long fromIndex) throws IOException {
        usable();
        if (fromIndex <= baseIndex)
            throw new IllegalArgumentException("cannot truncate the log from " + fromIndex + ": the snapshot covers up to "
                    + baseIndex + " and those entries are committed");
        if (fromIndex > nextIndex)
            throw new IllegalArgumentException("cannot truncate the log from " + fromIndex + ": it ends at " + (nextIndex - 1));
        if (fromIndex == nextIndex) return;
        try {
            boolean deleted = false;
            while (!segments.isEmpty() && segments.lastKey() >= fromIndex) {
                Segment s = segments.pollLastEntry().getValue();
                closeCurrent();
                disk.delete(s.path);
                deleted = true;
            }
            if (deleted) disk.fsyncDirectory(dir);
            if (segments.isEmpty()) {
                lastTerm = 0;
            } else {
                Segment s = segments.lastEntry().getValue();
                if (current == null) current = openForAppend(s);
                if (s.lastIndex >= fromIndex) {
                    LogSegment.Scan scan = LogSegment.scan(s.path, s.firstIndex, true);
                    long cut = scan.offsets()[(int) (fromIndex - s.firstIndex)];
                    current.truncate(cut);
                    current.force(true);
                    s.bytes = cut;
                    s.lastIndex = fromIndex - 1;
                    s.lastTerm = scan.entries().get((int) (fromIndex - 1 - s.firstIndex)).term();
                }
                lastTerm = s.lastTerm;
                // cut back to the snapshot: what is left is covered, as open() would find
                if (s.lastIndex <= baseIndex) {
                    deleteCovered(baseIndex);
                    lastTerm = 0;
                }
            }
        } catch (LogCorruptException e) {
            broken = "truncation found " + e.problem();
            throw new IOException("cannot truncate the log from " + fromIndex + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            if (broken == null) broken = "a truncation failed: " + StateFile.describe(e);
            throw e;
        }
        nextIndex = fromIndex;
        // the cut segment was just fsynced, and every earlier one when the next was rolled
        durableIndex = fromIndex - 1;
    }

    /**
     * Deletes every segment whose entries are all at or below {@code upToIndex}, oldest first, then
     * fsyncs the directory. Call it only once a snapshot covering {@code upToIndex} is durable. A
     * snapshot past the log's end (one installed from the master) empties the log, and the next
     * entry then follows the snapshot.
     *
     * @return how many segments were deleted
     */
    public int compactPrefix(long upToIndex) throws IOException {
        usable();
        int deleted;
        try {
            deleted = deleteCovered(upToIndex);
        } catch (IOException | RuntimeException e) {
            if (broken == null) broken = "a compaction failed: " + StateFile.describe(e);
            throw e;
        }
        baseIndex = Math.max(baseIndex, upToIndex);
        if (nextIndex <= upToIndex) {
            nextIndex = upToIndex + 1;
            durableIndex = upToIndex;
            lastTerm = 0;
        }
        return deleted;
    }

    /**
     * The next append starts a new segment. After a compaction: the entries written from then on go
     * to a segment the next compaction can delete whole, so that the log on disk stays within about
     * two snapshot intervals, however large a segment may grow.
     */
    public void rollAtNextAppend() {
        rollPending = true;
    }

    /** Deletes the segments wholly at or below {@code upToIndex}, oldest first, then fsyncs the directory. */
    private int deleteCovered(long upToIndex) throws IOException {
        int deleted = 0;
        while (!segments.isEmpty() && segments.firstEntry().getValue().lastIndex <= upToIndex) {
            Segment s = segments.pollFirstEntry().getValue();
            if (segments.isEmpty()) closeCurrent();
            disk.delete(s.path);
            deleted++;
        }
        if (deleted > 0) disk.fsyncDirectory(dir);
        return deleted;
    }

    /** The segment files, oldest first. */
    public List<Path> segmentFiles() {
        List<Path> out = new ArrayList<>();
        for (Segment s : segments.values()) out.add(s.path);
        return out;
    }

    /** Closes the segment being written; the storage refuses further use. */
    @Override
    public void close() throws IOException {
        if (broken == null) broken = "it was closed";
        closeCurrent();
    }

    private Segment roll(long firstIndex) throws IOException {
        Segment old = segments.isEmpty() ? null : segments.lastEntry().getValue();
        if (old != null && current != null) {
            current.force(false);   // so that sync() needs to fsync only the segment being written
            if (durableIndex < old.lastIndex) durableIndex = old.lastIndex;
        }
        closeCurrent();
        Path path = dir.resolve(LogSegment.fileName(firstIndex));
        FileChannel ch = disk.open(path, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
        try {
            ByteBuffer h = ByteBuffer.wrap(LogSegment.header(firstIndex));
            while (h.hasRemaining()) ch.write(h);
            ch.force(true);
            disk.fsyncDirectory(dir);
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(path);
            throw new IOException("cannot create log segment " + path + ": " + StateFile.describe(e), e);
        }
        current = ch;
        rollPending = false;
        Segment s = new Segment(firstIndex, path, firstIndex - 1, old == null ? lastTerm : old.lastTerm, LogSegment.HEADER_BYTES);
        segments.put(firstIndex, s);
        return s;
    }

    private void write(Segment seg, ByteBuffer slice) throws IOException {
        try {
            while (slice.hasRemaining()) current.write(slice);
        } catch (IOException e) {
            throw new IOException("cannot write log segment " + seg.path + ": " + StateFile.describe(e), e);
        }
    }

    private FileChannel openForAppend(Segment s) throws IOException {
        FileChannel ch = disk.open(s.path, EnumSet.of(StandardOpenOption.WRITE));
        ch.position(s.bytes);
        return ch;
    }

    private void closeCurrent() throws IOException {
        if (current != null) {
            FileChannel c = current;
            current = null;
            c.close();
        }
    }

    private void usable() throws IOException {
        if (broken != null)
            throw new IOException("the log in " + dir + " is unusable since " + broken
                    + "; restart the agent so that it reopens and checks the log");
    }
}
