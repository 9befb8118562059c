package io.quorumd.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quorumd.core.TermState;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateFileTest {
    @TempDir Path dir;

    @Test
    void freshNodeStartsAtTermZeroAndWritesRoundTrip() throws Exception {
        StateFile f = new StateFile(dir);
        assertEquals(TermState.INITIAL, f.load());
        f.store(new TermState(7, "node-b"));
        assertEquals(new TermState(7, "node-b"), f.load());
        assertEquals(new TermState(7, "node-b"), new StateFile(dir).load(), "a new instance (a restart) reads it");
        f.store(new TermState(8, null));
        assertEquals(new TermState(8, null), f.load());
        f.store(new TermState(TermState.MAX_TERM, "nöde-ü"));
        assertEquals(new TermState(TermState.MAX_TERM, "nöde-ü"), f.load());
    }

    @Test
    void fileIsHumanReadableAndNothingIsLeftBehind() throws Exception {
        StateFile f = new StateFile(dir);
        f.store(new TermState(7, "node-b"));
        String text = Files.readString(dir.resolve("state"));
        assertTrue(text.matches("quorumd-state v1\nterm=7\nvoted_for=node-b\ncrc32=[0-9a-f]{8}\n"), text);
        f.store(new TermState(9, null));
        assertTrue(Files.readString(dir.resolve("state")).startsWith("quorumd-state v1\nterm=9\nvoted_for=\ncrc32="));
        assertFalse(Files.exists(dir.resolve("state.tmp")));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("state"))));
    }

    @Test
    void leftoverTempFileFromACrashIsIgnoredAndRemoved() throws Exception {
        StateFile f = new StateFile(dir);
        Files.writeString(dir.resolve("state.tmp"), "quorumd-state v1\nterm=99\nvot");   // crash mid-write
        assertEquals(TermState.INITIAL, f.load(), "an unrenamed write was never acknowledged");
        assertFalse(Files.exists(dir.resolve("state.tmp")));

        f.store(new TermState(3, "node-a"));
        Files.write(dir.resolve("state.tmp"), StateFile.encode(new TermState(4, "node-c")));  // crash before rename
        assertEquals(new TermState(3, "node-a"), f.load());
        assertFalse(Files.exists(dir.resolve("state.tmp")));
    }

    @Test
    void everyTruncationIsRefused() throws Exception {
        byte[] good = StateFile.encode(new TermState(12, "node-b"));
        for (int len = 0; len < good.length; len++) {
            Files.write(dir.resolve("state"), Arrays.copyOf(good, len));
            StateFileException e = assertThrows(StateFileException.class, () -> new StateFile(dir).load(),
                    "truncated to " + len + " bytes");
            assertClear(e);
        }
    }

    @Test
    void everySingleBitFlipIsRefused() throws Exception {
        byte[] good = StateFile.encode(new TermState(12, "node-b"));
        for (int i = 0; i < good.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << bit);
                Files.write(dir.resolve("state"), bad);
                try {
                    TermState s = new StateFile(dir).load();
                    fail("byte " + i + " bit " + bit + " flipped was accepted as " + s);
                } catch (StateFileException e) {
                    assertClear(e);
                }
            }
        }
    }

    @Test
    void eachKindOfDamageHasItsOwnReason() throws Exception {
        assertDamage("".getBytes(), "is empty");
        assertDamage("hello\n".getBytes(), "first line is not 'quorumd-state v1' (got 'hello')");
        assertDamage(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1}, "not valid UTF-8");
        assertDamage(new byte[5000], "larger than 4096 bytes");
        assertDamage("quorumd-state v1\nterm=7\nvoted_for=node-b\ncrc32=00000000\n".getBytes(),
                "checksum does not match (stored crc32 00000000, computed ");
        assertDamage("quorumd-state v1\nterm=7\nvoted_for=node-b\n".getBytes(), "truncated (3 of 4 lines)");
        assertDamage("quorumd-state v1\nterm=7\nvoted_for=node-b\ncrc32=12".getBytes(), "truncated (its last line");
        assertDamage(withCrc("quorumd-state v1\nterm=-1\nvoted_for=\n"), "line 2 is not 'term=' and a number (got 'term=-1')");
        assertDamage(withCrc("quorumd-state v1\nterm=99999999999999999999\nvoted_for=\n"), "line 2 is not 'term='");
        assertDamage(withCrc("quorumd-state v1\nterm=9999999999999999999\nvoted_for=\n"), "term is out of range");
        assertDamage(withCrc("quorumd-state v1\nterm=1\nvote=\n"), "line 3 is not 'voted_for='");

        Files.writeString(dir.resolve("state"), "quorumd-state v2\nwhatever\n");
        StateFileException e = assertThrows(StateFileException.class, () -> new StateFile(dir).load());
        assertTrue(e.getMessage().contains("has format v2, written by a newer quorumd"), e.getMessage());
    }

    /** A term no node may hold (2^62 or more, say from a forged frame an older version took) is refused, not a crash. */
    @Test
    void aTermBeyondTheLargestIsRefusedWithAClearMessage() throws Exception {
        Files.write(dir.resolve("state"), withCrc("quorumd-state v1\nterm=" + ((1L << 62) - 1) + "\nvoted_for=\n"));
        assertEquals(new TermState(TermState.MAX_TERM, null), new StateFile(dir).load(), "2^62-1 is the largest term");
        for (long t : new long[] {1L << 62, Long.MAX_VALUE}) {
            Files.write(dir.resolve("state"), withCrc("quorumd-state v1\nterm=" + t + "\nvoted_for=node-a\n"));
            StateFileException e = assertThrows(StateFileException.class, () -> new StateFile(dir).load());
            String m = e.getMessage();
            assertTrue(m.startsWith("quorumd: state file " + dir.resolve("state") + " holds term " + t
                    + ", beyond the largest term a node may hold (2^62-1"), m);
            assertTrue(m.contains("move those files away"), m);
        }
    }

    @Test
    void unreadableStateFileIsRefused() throws Exception {
        Files.createDirectory(dir.resolve("state"));   // root reads every file, so make it unreadable as a file
        StateFileException e = assertThrows(StateFileException.class, () -> new StateFile(dir).load());
        assertTrue(e.getMessage().startsWith("quorumd: cannot read state file " + dir.resolve("state") + ": "), e.getMessage());
    }

    @Test
    void controlCharactersInAVoteAreRefusedBeforeWriting() {
        assertThrows(IllegalArgumentException.class, () -> new StateFile(dir).store(new TermState(1, "a\nterm=9")));
        assertThrows(IllegalArgumentException.class, () -> new StateFile(dir).store(new TermState(1, "")));
        assertFalse(Files.exists(dir.resolve("state")));
    }

    @Test
    void lockKeepsASecondAgentOutOfTheSameProcess() throws Exception {
        StateDirLock lock = StateDirLock.acquire(dir);
        try {
            StateFileException e = assertThrows(StateFileException.class, () -> StateDirLock.acquire(dir));
            assertTrue(e.getMessage().contains("already locked by this process"), e.getMessage());
        } finally {
            lock.close();
        }
        StateDirLock.acquire(dir).close();   // released
    }

    @Test
    void lockNamesTheOtherAgentsPidAndIsFreedWhenItDies() throws Exception {
        Path sub = dir.resolve("missing/state");   // created by acquire
        String java = ProcessHandle.current().info().command().orElse("java");
        Process other = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                LockHolder.class.getName(), sub.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine());
            StateFileException e = assertThrows(StateFileException.class, () -> StateDirLock.acquire(sub));
            assertTrue(e.getMessage().contains("is in use by another quorumd agent (pid " + other.pid()), e.getMessage());
            assertTrue(e.getMessage().contains(sub.toString()), e.getMessage());
        } finally {
            other.destroyForcibly();   // SIGKILL: the kernel drops an fcntl lock with its process
            assertTrue(other.waitFor(10, TimeUnit.SECONDS));
        }
        try (StateDirLock lock = StateDirLock.acquire(sub)) {
            assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(lock.path()));
        }
    }

    private void assertDamage(byte[] content, String reason) throws Exception {
        Files.write(dir.resolve("state"), content);
        StateFileException e = assertThrows(StateFileException.class, () -> new StateFile(dir).load());
        assertTrue(e.getMessage().contains(reason), "expected '" + reason + "' in: " + e.getMessage());
        assertClear(e);
    }

    private void assertClear(StateFileException e) {
        String m = e.getMessage();
        assertTrue(m.startsWith("quorumd: state file " + dir.resolve("state") + " "), m);
        assertTrue(m.contains("Restore the file from a backup") || m.contains("Run the newer quorumd"), m);
    }

    private static byte[] withCrc(String body) {
        java.util.zip.CRC32 c = new java.util.zip.CRC32();
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        c.update(b);
        return (body + "crc32=" + String.format("%08x", c.getValue()) + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
