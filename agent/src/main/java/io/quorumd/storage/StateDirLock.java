package io.quorumd.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * An exclusive lock on {@code state_dir/lock}, held for the agent's whole run, so that two agents
 * never share one state directory (two writers of one vote could vote twice in a term). The lock
 * is an fcntl lock ({@link FileChannel#tryLock}): the kernel drops it when the process dies, even by
 * SIGKILL, so a crashed agent never leaves a stale lock behind. The file holds the owner's PID for
 * the error message; it is never deleted (deleting a lock file races with the next locker).
 */
public final class StateDirLock implements AutoCloseable {
    public static final String FILE_NAME = "lock";

    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;

    private StateDirLock(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code stateDir} (mode 0750) if it is missing and locks it.
     *
     * @throws StateFileException another agent holds the lock (the message names its PID), or the
     *                            directory or lock file cannot be created or opened
     */
    public static StateDirLock acquire(Path stateDir) throws StateFileException {
        Path path = stateDir.resolve(FILE_NAME);
        try {
            if (!Files.isDirectory(stateDir))
                Files.createDirectories(stateDir,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
        } catch (IOException e) {
            throw new StateFileException("quorumd: cannot create state directory " + stateDir + ": "
                    + StateFile.describe(e) + ". Create it for the agent's user or set state_dir to a writable directory.", e);
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new StateFileException("quorumd: cannot open lock file " + path + ": " + StateFile.describe(e)
                    + ". The agent's user must be able to write " + stateDir + ".", e);
        }
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            closeQuietly(ch);
            throw new StateFileException("quorumd: state directory " + stateDir + " is already locked by this process "
                    + "(pid " + ProcessHandle.current().pid() + "); one agent per state_dir.", e);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new StateFileException("quorumd: cannot lock " + path + ": " + StateFile.describe(e) + ".", e);
        }
        if (lock == null) {
            String owner = readOwner(ch);
            closeQuietly(ch);
            throw new StateFileException("quorumd: state directory " + stateDir + " is in use by another quorumd agent ("
                    + owner + ", holding " + path + "). Two agents must never share a state_dir: stop the other "
                    + "agent, or give this one its own state_dir.");
        }
        try {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new StateFileException("quorumd: cannot write lock file " + path + ": " + StateFile.describe(e) + ".", e);
        }
        return new StateDirLock(path, ch, lock);
    }

    public Path path() {
        return path;
    }

    /** Releases the lock (also released by the kernel when the process exits). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel below releases it too
        }
        closeQuietly(channel);
    }

    private static String readOwner(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            if (s.matches("[0-9]{1,10}")) {
                long pid = Long.parseLong(s);
                String cmd = ProcessHandle.of(pid).flatMap(h -> h.info().command()).orElse(null);
                return "pid " + pid + (cmd == null ? "" : ", " + cmd);
            }
        } catch (IOException | RuntimeException ignored) {
            // fall through: the owner may not have written its PID yet
        }
        return "pid unknown";
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
