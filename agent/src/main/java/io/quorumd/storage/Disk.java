package io.quorumd.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.EnumSet;
import java.util.Set;

/**
 * The file-system calls of {@link LogStorage}, {@link SnapshotStore} and {@link StateFile} that a
 * sick disk makes fail: opening a file or directory (its channel's writes, fsyncs and truncations
 * then go to the disk), deleting and renaming. Production uses {@link #REAL}, the plain JDK calls. The
 * interface is package-private and exists for the tests alone: {@code FaultyDisk} in the tests
 * makes a chosen call fail (as "No space left on device" or "Input/output error" would) and keeps
 * a journal of the writes, fsyncs, truncations, deletes and renames, so that the error paths (what
 * the storage refuses afterwards, what it deletes, what a reopen finds) and the order of the
 * durable steps (fsync before a rename is relied on, a directory fsync after each entry change)
 * are tested, where a real disk does not fail on cue and an fsync leaves no trace.
 */
interface Disk {
    FileChannel open(Path file, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException;

    /**
     * fsync of a directory, opened through {@link #open}: a created, renamed or deleted entry is
     * durable only once its directory is.
     */
    default void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel d = open(dir, EnumSet.of(StandardOpenOption.READ))) {
            d.force(true);
        } catch (IOException e) {
            throw new IOException("cannot fsync directory " + dir + ": " + StateFile.describe(e), e);
        }
    }

    /** {@link Files#delete}. */
    void delete(Path file) throws IOException;

    /** {@link Files#move} with {@link StandardCopyOption#ATOMIC_MOVE}: rename(2). */
    void rename(Path from, Path to) throws IOException;

    Disk REAL = new Disk() {
        @Override
        public FileChannel open(Path file, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
            return FileChannel.open(file, options, attrs);
        }

        @Override
        public void delete(Path file) throws IOException {
            Files.delete(file);
        }

        @Override
        public void rename(Path from, Path to) throws IOException {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        }
    };
}
