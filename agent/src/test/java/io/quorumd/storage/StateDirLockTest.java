package io.quorumd.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state directory's lock leaves nothing behind: every way out of {@link StateDirLock#acquire}
 * and {@link StateDirLock#close} closes the lock file (an agent that retries its start must not
 * leak a descriptor per try), and a refusal names the other agent's pid and program.
 */
class StateDirLockTest {
    @TempDir Path dir;

    @Test
    void aMissingStateDirIsCreatedForTheAgentAndItsGroupOnly() throws Exception {
        Path sub = dir.resolve("var/lib/quorumd");
        try (StateDirLock lock = StateDirLock.acquire(sub)) {
            assertTrue(Files.isDirectory(sub));
            assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(sub)));
            assertEquals(sub.resolve(StateDirLock.FILE_NAME), lock.path());
        }
    }

    @Test
    void closeClosesTheLockFile() throws Exception {
        StateDirLock lock = StateDirLock.acquire(dir);
        assertEquals(1, descriptorsOn(lock.path()), "the lock holds its file open");
        lock.close();
        assertEquals(0, descriptorsOn(lock.path()), "close must close the lock file, not only release the lock");
    }

    @Test
    void aRefusalInTheSameProcessClosesItsDescriptor() throws Exception {
        try (StateDirLock lock = StateDirLock.acquire(dir)) {
            for (int i = 0; i < 3; i++) {
                assertThrows(StateFileException.class, () -> StateDirLock.acquire(dir));
            }
            assertEquals(1, descriptorsOn(lock.path()), "each refused acquire must close what it opened");
        }
    }

    @Test
    void aRefusalBecauseOfAnotherAgentNamesItsProgramAndClosesItsDescriptor() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process other = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                LockHolder.class.getName(), dir.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine());
            Path file = dir.resolve(StateDirLock.FILE_NAME);
            for (int i = 0; i < 3; i++) {
                StateFileException e = assertThrows(StateFileException.class, () -> StateDirLock.acquire(dir));
                assertTrue(e.getMessage().contains("(pid " + other.pid() + ", " + java + ", holding " + file + ")"),
                        e.getMessage());
            }
            assertEquals(0, descriptorsOn(file), "a refused acquire must close the lock file it opened");
        } finally {
            other.destroyForcibly();
            assertTrue(other.waitFor(10, TimeUnit.SECONDS));
        }
    }

    /** How many of this process's descriptors are open on {@code file} (from /proc/self/fd). */
    private static long descriptorsOn(Path file) throws IOException {
        Path real = file.toRealPath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (NoSuchFileException closedMeanwhile) {
                    return false;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).count();
        }
    }
}
