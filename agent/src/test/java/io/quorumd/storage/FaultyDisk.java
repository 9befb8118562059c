package io.quorumd.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@link Disk} on the real file system whose calls fail on cue, the way a sick disk makes them
 * fail: a write puts part of its bytes on disk, then throws "No space left on device"; an fsync
 * (of a file, or of a directory: {@link Disk#fsyncDirectory} opens it through {@link #open}),
 * truncation, delete, rename or open throws "Input/output error" and does nothing. {@link #fail}
 * arms one failure of one kind of call on the paths whose file name starts with a given text, after a
 * number of such calls that succeed.
 *
 * <p>It keeps a journal of what reached the disk ("WRITE name", "FORCE name", "TRUNCATE name",
 * "DELETE name", "RENAME from>to"; a failed call is not in it), for the tests of the order of the
 * durable steps, and counts the channels still open, so that a test can check that a path closes
 * what it opened.
 */
final class FaultyDisk implements Disk {
    enum Op { OPEN, WRITE, FORCE, TRUNCATE, DELETE, RENAME }

    static final String ENOSPC = "No space left on device";
    static final String EIO = "Input/output error";

    private static final class Fault {
        final Op op;
        final String namePrefix;
        int okCalls;

        Fault(Op op, String namePrefix, int okCalls) {
            this.op = op;
            this.namePrefix = namePrefix;
            this.okCalls = okCalls;
        }
    }

    private final List<Fault> armed = new ArrayList<>();
    private final List<String> failed = new ArrayList<>();
    private final List<String> journal = new ArrayList<>();
    private int openChannels;

    /**
     * The call {@code op} on a path whose file name starts with {@code namePrefix} (a directory's
     * fsync: its own name) fails after {@code okCalls} such calls succeeded; once.
     */
    FaultyDisk fail(Op op, String namePrefix, int okCalls) {
        armed.add(new Fault(op, namePrefix, okCalls));
        return this;
    }

    FaultyDisk failNext(Op op, String namePrefix) {
        return fail(op, namePrefix, 0);
    }

    /** The failures injected so far, as "OP file name". */
    List<String> failed() {
        return List.copyOf(failed);
    }

    /** What reached the disk so far, in order. */
    List<String> journal() {
        return List.copyOf(journal);
    }

    /** The journal since the last call of this method. */
    List<String> journalSinceLast() {
        List<String> out = List.copyOf(journal.subList(mark, journal.size()));
        mark = journal.size();
        return out;
    }

    private int mark;

    /** True when no armed failure is left (each one happened). */
    boolean allFired() {
        return armed.isEmpty();
    }

    int openChannels() {
        return openChannels;
    }

    private boolean fires(Op op, Path p) {
        String name = String.valueOf(p.getFileName());
        for (Fault f : armed) {
            if (f.op == op && name.startsWith(f.namePrefix)) {
                if (f.okCalls-- > 0) return false;
                armed.remove(f);
                failed.add(op + " " + name);
                return true;
            }
        }
        return false;
    }

    private void check(Op op, Path p) throws IOException {
        if (fires(op, p)) throw new IOException(EIO);
    }

    /** Consecutive writes to one file are one entry: how a buffer is split into write calls is not the point. */
    private void record(Op op, Path p) {
        String e = op + " " + p.getFileName();
        if (op == Op.WRITE && journal.size() > mark && journal.get(journal.size() - 1).equals(e)) return;
        journal.add(e);
    }

    @Override
    public FileChannel open(Path file, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        check(Op.OPEN, file);
        FileChannel ch = FileChannel.open(file, options, attrs);
        openChannels++;
        return new Channel(file, ch);
    }

    @Override
    public void delete(Path file) throws IOException {
        check(Op.DELETE, file);
        Disk.REAL.delete(file);
        record(Op.DELETE, file);
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        check(Op.RENAME, to);
        Disk.REAL.rename(from, to);
        journal.add(Op.RENAME + " " + from.getFileName() + ">" + to.getFileName());
    }

    /** A real channel whose write, force and truncate consult the armed failures first. */
    private final class Channel extends FileChannel {
        private final Path path;
        private final FileChannel ch;

        Channel(Path path, FileChannel ch) {
            this.path = path;
            this.ch = ch;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (fires(Op.WRITE, path)) {
                // a short write reached the disk before the device filled up
                int part = src.remaining() / 2;
                ByteBuffer half = src.duplicate();
                half.limit(half.position() + part);
                while (half.hasRemaining()) ch.write(half);
                record(Op.WRITE, path);
                throw new IOException(ENOSPC);
            }
            int n = ch.write(src);
            record(Op.WRITE, path);
            return n;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            check(Op.FORCE, path);
            ch.force(metaData);
            record(Op.FORCE, path);
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            check(Op.TRUNCATE, path);
            ch.truncate(size);
            record(Op.TRUNCATE, path);
            return this;
        }

        @Override
        protected void implCloseChannel() throws IOException {
            openChannels--;
            ch.close();
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return ch.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return ch.read(dsts, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw new UnsupportedOperationException("not used by the storage");
        }

        @Override
        public long position() throws IOException {
            return ch.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            ch.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) {
            throw new UnsupportedOperationException("not used by the storage");
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException("not used by the storage");
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return ch.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) {
            throw new UnsupportedOperationException("not used by the storage");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) {
            throw new UnsupportedOperationException("not used by the storage");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException("not used by the storage");
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException("not used by the storage");
        }
    }
}
