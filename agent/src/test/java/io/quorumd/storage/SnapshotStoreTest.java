package io.quorumd.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {
    @TempDir Path dir;

    static SnapshotStore.Snapshot snap(long index, long term, String data) {
        return new SnapshotStore.Snapshot(index, term, data.getBytes(StandardCharsets.UTF_8));
    }

    private List<String> names() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void noSnapshotLoadsEmpty() throws Exception {
        SnapshotStore.Loaded l = new SnapshotStore(dir).load();
        assertTrue(l.snapshot().isEmpty());
        assertTrue(l.notes().isEmpty());
    }

    @Test
    void roundTripAndANewerOneReplacesTheOlder() throws Exception {
        SnapshotStore store = new SnapshotStore(dir);
        store.store(snap(5, 2, "state at 5"));
        assertEquals(List.of("snapshot-5-2"), names());
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("snapshot-5-2"))));
        assertEquals(snap(5, 2, "state at 5"), new SnapshotStore(dir).load().snapshot().orElseThrow());
        store.store(snap(9, 3, ""));
        assertEquals(List.of("snapshot-9-3"), names(), "the older one goes once the newer is durable");
        SnapshotStore.Loaded l = new SnapshotStore(dir).load();
        assertEquals(snap(9, 3, ""), l.snapshot().orElseThrow());
        assertTrue(l.notes().isEmpty());
    }

    @Test
    void aCrashBetweenTheTempWriteAndTheRenameLeavesTheOldSnapshot() throws Exception {
        SnapshotStore store = new SnapshotStore(dir);
        store.store(snap(5, 2, "old"));
        store.writeTemp(dir.resolve("snapshot-9-3.tmp"), snap(9, 3, "new"));   // then the crash
        SnapshotStore.Loaded l = new SnapshotStore(dir).load();
        assertEquals(snap(5, 2, "old"), l.snapshot().orElseThrow());
        assertEquals(1, l.notes().size());
        assertTrue(l.notes().get(0).contains("snapshot-9-3.tmp") && l.notes().get(0).contains("interrupted"), l.notes().get(0));
        assertEquals(List.of("snapshot-5-2"), names());
        // a torn temp file (the crash came mid-write) is no different
        Files.write(dir.resolve("snapshot-9-3.tmp"), new byte[] {'Q', 'D'});
        assertEquals(snap(5, 2, "old"), new SnapshotStore(dir).load().snapshot().orElseThrow());
    }

    @Test
    void aCrashAfterTheRenameBeforeTheOlderWasDeletedLoadsTheNewer() throws Exception {
        new SnapshotStore(dir).store(snap(5, 2, "old"));
        Files.write(dir.resolve("snapshot-9-3"), SnapshotStore.encode(snap(9, 3, "new")));
        SnapshotStore.Loaded l = new SnapshotStore(dir).load();
        assertEquals(snap(9, 3, "new"), l.snapshot().orElseThrow());
        assertTrue(l.notes().get(0).contains("snapshot-5-2") && l.notes().get(0).contains("older"), l.notes().toString());
        assertEquals(List.of("snapshot-9-3"), names());
    }

    @Test
    void everyFlippedByteIsRefusedWithTheFileAndOffset() throws Exception {
        byte[] good = SnapshotStore.encode(snap(7, 2, "some state"));
        for (int at = 0; at < good.length; at++) {
            byte[] b = good.clone();
            b[at] ^= 0x04;
            Files.write(dir.resolve("snapshot-7-2"), b);
            int where = at;
            LogCorruptException x = assertThrows(LogCorruptException.class, () -> new SnapshotStore(dir).load(), "flip at " + where);
            assertEquals(dir.resolve("snapshot-7-2"), x.file());
            assertTrue(x.getMessage().contains("snapshot-7-2") && x.getMessage().contains("at byte " + x.offset()), x.getMessage());
            assertTrue(Files.exists(dir.resolve("snapshot-7-2")), "never deleted");
        }
        for (int len = 0; len < good.length; len++) {
            Files.write(dir.resolve("snapshot-7-2"), java.util.Arrays.copyOf(good, len));
            assertThrows(LogCorruptException.class, () -> new SnapshotStore(dir).load(), "truncated to " + len);
        }
    }

    @Test
    void aNameThatDisagreesWithTheHeaderIsRefused() throws Exception {
        Files.write(dir.resolve("snapshot-8-2"), SnapshotStore.encode(snap(7, 2, "x")));
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> new SnapshotStore(dir).load());
        assertEquals(12, x.offset());
        assertTrue(x.problem().contains("its name says index 8"), x.problem());
    }

    @Test
    void aDamagedNewestFallsBackToTheOlderOneLoudlyAndKeepsTheDamagedFile() throws Exception {
        new SnapshotStore(dir).store(snap(5, 2, "old"));
        byte[] newer = SnapshotStore.encode(snap(9, 3, "new"));
        newer[newer.length - 6] ^= 1;
        Files.write(dir.resolve("snapshot-9-3"), newer);
        SnapshotStore.Loaded l = new SnapshotStore(dir).load();
        assertEquals(snap(5, 2, "old"), l.snapshot().orElseThrow());
        assertTrue(l.notes().get(0).startsWith("WARNING") && l.notes().get(0).contains("snapshot-9-3"), l.notes().toString());
        assertEquals(List.of("snapshot-5-2", "snapshot-9-3"), names());
    }

    @Test
    void aSnapshotAndTheLogTogetherRestoreTheState() throws Exception {
        // the order the agent will follow: snapshot durable, then compact, then a restart
        try (LogStorage s = LogStorage.open(dir, 0, 300).storage()) {
            s.append(LogStorageTest.entries(1, 30, 1, 20));
            s.sync();
            new SnapshotStore(dir).store(snap(20, 1, "applied 1..20"));
            s.compactPrefix(20);
        }
        SnapshotStore.Loaded l = new SnapshotStore(dir).load();
        SnapshotStore.Snapshot snap = l.snapshot().orElseThrow();
        LogStorage.Opened o = LogStorage.open(dir, snap.index(), 300);
        o.storage().close();
        assertEquals(LogStorageTest.entries(21, 30, 1, 20), o.entries());
        assertFalse(names().contains("snapshot-20-1.tmp"));
    }

    @Test
    void aDamagedNewestSnapshotWhoseEntriesWereCompactedStopsTheStartAtTheLog() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, 300).storage()) {
            s.append(LogStorageTest.entries(1, 40, 1, 20));
            s.sync();
            new SnapshotStore(dir).store(snap(10, 1, "applied 1..10"));
            s.compactPrefix(10);
            new SnapshotStore(dir).store(snap(30, 1, "applied 1..30"));
            s.compactPrefix(30);
        }
        // the newest snapshot rots; the older one is gone, so nothing can stand in for it
        byte[] b = Files.readAllBytes(dir.resolve("snapshot-30-1"));
        b[SnapshotStore.HEADER_BYTES] ^= 1;
        Files.write(dir.resolve("snapshot-30-1"), b);
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> new SnapshotStore(dir).load());
        assertTrue(x.getMessage().contains("snapshot-30-1"), x.getMessage());

        // had an older snapshot survived, the log would refuse: its first entries are compacted away
        Files.write(dir.resolve("snapshot-10-1"), SnapshotStore.encode(snap(10, 1, "applied 1..10")));
        SnapshotStore.Loaded l = new SnapshotStore(dir).load();
        assertEquals(10, l.snapshot().orElseThrow().index());
        LogCorruptException y = assertThrows(LogCorruptException.class,
                () -> LogStorage.open(dir, l.snapshot().orElseThrow().index(), 300));
        assertTrue(y.problem().contains("entries 11..") && y.problem().contains("are missing"), y.problem());
    }
}
