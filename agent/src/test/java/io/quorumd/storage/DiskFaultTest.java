package io.quorumd.storage;

import static io.quorumd.storage.FaultyDisk.EIO;
import static io.quorumd.storage.FaultyDisk.ENOSPC;
import static io.quorumd.storage.LogStorageTest.entries;
import static io.quorumd.storage.SnapshotStoreTest.snap;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.core.TermState;
import io.quorumd.storage.FaultyDisk.Op;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fails: a write that runs out of space half-way, an fsync, a directory fsync, a
 * delete or a rename that fails with an I/O error ({@link FaultyDisk}). The log then refuses every
 * further use until it is reopened, counts nothing it did not fsync, closes what it opened and
 * leaves files that the next open recovers; a snapshot or state file that could not be written
 * leaves the previous one in place, and no older snapshot is deleted before the newer is durable.
 */
class DiskFaultTest {
    @TempDir Path tmp;

    private static final String S1 = "segment-00000000000000000001.log";
    private static final String S3 = "segment-00000000000000000003.log";
    private static final long TWO_ENTRIES = LogSegment.HEADER_BYTES + 2 * (LogSegment.RECORD_HEADER_BYTES
            + LogSegment.BODY_FIXED_BYTES + 10);

    private static void assertUnusable(LogStorage s, String since) {
        for (IOException x : List.of(
                assertThrows(IOException.class, s::sync),
                assertThrows(IOException.class, () -> s.append(entries(s.nextIndex(), s.nextIndex(), 9, 10))),
                assertThrows(IOException.class, () -> s.truncateSuffix(s.lastIndex())),
                assertThrows(IOException.class, () -> s.compactPrefix(1)))) {
            assertTrue(x.getMessage().contains("is unusable since " + since) && x.getMessage().contains("restart the agent"),
                    x.getMessage());
        }
    }

    @Test
    void aWriteThatRunsOutOfSpaceHalfWayCountsNothingAndReopeningCutsTheTornTail() throws Exception {
        Path node = tmp.resolve("node");
        FaultyDisk disk = new FaultyDisk();
        LogStorage s = LogStorage.open(node, 0, 10_000, disk).storage();
        s.append(entries(1, 5, 1, 50));
        assertEquals(5, s.sync());
        disk.failNext(Op.WRITE, "segment-");
        IOException x = assertThrows(IOException.class, () -> s.append(entries(6, 6, 1, 50)));
        assertEquals("cannot write log segment " + node.resolve("log").resolve(S1) + ": " + ENOSPC, x.getMessage());
        assertEquals(6, s.nextIndex(), "the entry that failed is not counted");
        assertEquals(5, s.durableIndex());
        assertUnusable(s, "a write failed: cannot write log segment");
        s.close();
        assertEquals(0, disk.openChannels());

        LogStorage.Opened o = LogStorage.open(node, 0, 10_000);
        o.storage().close();
        assertEquals(entries(1, 5, 1, 50), o.entries());
        assertEquals(1, o.notes().size(), o.notes().toString());
        assertTrue(o.notes().get(0).contains("torn tail"), o.notes().get(0));
    }

    @Test
    void aFailedFsyncIsReportedAndNothingAfterItIsTrusted() throws Exception {
        Path node = tmp.resolve("node");
        FaultyDisk disk = new FaultyDisk();
        LogStorage s = LogStorage.open(node, 0, 10_000, disk).storage();
        s.append(entries(1, 3, 1, 10));
        disk.failNext(Op.FORCE, "segment-");
        IOException x = assertThrows(IOException.class, s::sync);
        assertEquals("cannot fsync log segment " + node.resolve("log").resolve(S1) + ": " + EIO, x.getMessage());
        assertEquals(0, s.durableIndex(), "a failed fsync makes nothing durable");
        assertUnusable(s, "fsync of " + node.resolve("log").resolve(S1) + " failed: " + EIO);
        s.close();
        assertEquals(0, disk.openChannels());
    }

    @Test
    void aSegmentThatCannotBeCreatedIsRemovedAndWhatTheRollFsyncedStaysCounted() throws Exception {
        Path node = tmp.resolve("node");
        FaultyDisk disk = new FaultyDisk();
        LogStorage s = LogStorage.open(node, 0, TWO_ENTRIES, disk).storage();
        s.append(entries(1, 2, 1, 10));   // fills the first segment; not synced
        assertEquals(0, s.durableIndex());
        disk.failNext(Op.FORCE, "log");   // the directory fsync that would make the next segment's entry durable
        IOException x = assertThrows(IOException.class, () -> s.append(entries(3, 3, 1, 10)));
        Path s3 = node.resolve("log").resolve(S3);
        assertTrue(x.getMessage().startsWith("cannot create log segment " + s3 + ": cannot fsync directory "
                + node.resolve("log") + ": " + EIO), x.getMessage());
        assertFalse(Files.exists(s3), "the half-made segment is removed");
        assertEquals(2, s.durableIndex(), "the roll fsynced the full segment before creating the next");
        assertEquals(3, s.nextIndex());
        assertEquals(0, disk.openChannels(), "both the full segment's and the failed one's channels are closed");
        assertUnusable(s, "a write failed: cannot create log segment");
        s.close();

        LogStorage.Opened o = LogStorage.open(node, 0, TWO_ENTRIES);
        o.storage().close();
        assertEquals(entries(1, 2, 1, 10), o.entries());
        assertEquals(List.of(), o.notes());
    }

    @Test
    void aTruncationWhoseDirectoryFsyncFailsLeavesTheLogUnusable() throws Exception {
        Path node = tmp.resolve("node");
        FaultyDisk disk = new FaultyDisk();
        LogStorage s = LogStorage.open(node, 0, TWO_ENTRIES, disk).storage();
        s.append(entries(1, 4, 1, 10));
        s.sync();
        disk.failNext(Op.FORCE, "log");
        IOException x = assertThrows(IOException.class, () -> s.truncateSuffix(2));
        assertTrue(x.getMessage().startsWith("cannot fsync directory " + node.resolve("log")), x.getMessage());
        assertUnusable(s, "a truncation failed: cannot fsync directory");
        s.close();
        assertEquals(0, disk.openChannels());
        // the later segment is gone, the cut inside the first was not made: a reopen finds 1..2
        LogStorage.Opened o = LogStorage.open(node, 0, TWO_ENTRIES);
        o.storage().close();
        assertEquals(entries(1, 2, 1, 10), o.entries());
    }

    @Test
    void aCompactionThatFailsIsFinishedByTheNextOpen() throws Exception {
        Path node = tmp.resolve("node");
        FaultyDisk disk = new FaultyDisk();
        LogStorage s = LogStorage.open(node, 0, TWO_ENTRIES, disk).storage();
        s.append(entries(1, 4, 1, 10));
        s.sync();
        disk.failNext(Op.DELETE, S1);
        IOException x = assertThrows(IOException.class, () -> s.compactPrefix(2));
        assertEquals(EIO, x.getMessage());
        assertUnusable(s, "a compaction failed: " + EIO);
        s.close();

        LogStorage.Opened o = LogStorage.open(node, 2, TWO_ENTRIES);   // the snapshot at 2 is durable
        o.storage().close();
        assertEquals(entries(3, 4, 1, 10), o.entries());
        assertEquals(1, o.notes().size(), o.notes().toString());
        assertTrue(o.notes().get(0).contains(S1) && o.notes().get(0).contains("interrupted compaction"), o.notes().get(0));
        assertEquals(List.of(S3), names(node.resolve("log")));
    }

    @Test
    void anOpenThatCannotFsyncTheLastSegmentFailsAndClosesIt() throws Exception {
        Path node = tmp.resolve("node");
        try (LogStorage s = LogStorage.open(node, 0, 10_000).storage()) {
            s.append(entries(1, 3, 1, 10));
            s.sync();
        }
        FaultyDisk disk = new FaultyDisk().failNext(Op.FORCE, "segment-");
        IOException x = assertThrows(IOException.class, () -> LogStorage.open(node, 0, 10_000, disk));
        assertEquals(EIO, x.getMessage());
        assertTrue(disk.allFired());
        assertEquals(0, disk.openChannels(), "the failed open closed the segment it opened");
        LogStorage.Opened o = LogStorage.open(node, 0, 10_000, disk);
        o.storage().close();
        assertEquals(entries(1, 3, 1, 10), o.entries());
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aSnapshotThatCannotBeWrittenOrRenamedLeavesTheOlderOneAndNoTempFile() throws Exception {
        Path node = Files.createDirectory(tmp.resolve("node"));
        FaultyDisk disk = new FaultyDisk();
        SnapshotStore store = new SnapshotStore(node, disk);
        store.store(snap(5, 2, "old"));

        disk.failNext(Op.WRITE, "snapshot-9-3.tmp");
        IOException w = assertThrows(IOException.class, () -> store.store(snap(9, 3, "new")));
        assertEquals("cannot write snapshot " + node.resolve("snapshot-9-3.tmp") + ": " + ENOSPC, w.getMessage());
        assertEquals(List.of("snapshot-5-2"), names(node));

        disk.failNext(Op.FORCE, "snapshot-9-3.tmp");
        IOException f = assertThrows(IOException.class, () -> store.store(snap(9, 3, "new")));
        assertEquals("cannot write snapshot " + node.resolve("snapshot-9-3.tmp") + ": " + EIO, f.getMessage());
        assertEquals(List.of("snapshot-5-2"), names(node));

        disk.failNext(Op.RENAME, "snapshot-9-3");
        IOException r = assertThrows(IOException.class, () -> store.store(snap(9, 3, "new")));
        assertEquals("cannot rename " + node.resolve("snapshot-9-3.tmp") + " to " + node.resolve("snapshot-9-3") + ": "
                + EIO, r.getMessage());
        assertEquals(List.of("snapshot-5-2"), names(node));
        assertEquals(snap(5, 2, "old"), store.load().snapshot().orElseThrow());
        assertEquals(0, disk.openChannels());
        assertTrue(disk.allFired());
    }

    @Test
    void theOlderSnapshotIsDeletedOnlyOnceTheNewerIsDurable() throws Exception {
        Path node = Files.createDirectory(tmp.resolve("node"));
        FaultyDisk disk = new FaultyDisk();
        SnapshotStore store = new SnapshotStore(node, disk);
        store.store(snap(5, 2, "old"));
        disk.failNext(Op.FORCE, "node");   // the directory fsync after the rename
        IOException x = assertThrows(IOException.class, () -> store.store(snap(9, 3, "new")));
        assertTrue(x.getMessage().startsWith("cannot fsync directory " + node + ": "), x.getMessage());
        assertEquals(List.of("snapshot-5-2", "snapshot-9-3"), names(node), "the older one is kept");

        disk.fail(Op.FORCE, "node", 1);   // the directory fsync after deleting the older one
        IOException y = assertThrows(IOException.class, () -> store.store(snap(12, 3, "newer")));
        assertTrue(y.getMessage().startsWith("cannot fsync directory " + node + ": "), y.getMessage());
        assertEquals(List.of("snapshot-12-3"), names(node));

        Files.write(node.resolve("snapshot-3-1.tmp"), new byte[] {1});
        disk.failNext(Op.FORCE, "node");   // a load that removed a leftover must make that durable
        assertThrows(IOException.class, store::load);
        assertEquals(0, disk.openChannels());
        assertTrue(disk.allFired());
    }

    @Test
    void aStateFileThatCannotBeFsyncedLeavesThePreviousState() throws Exception {
        Path node = Files.createDirectory(tmp.resolve("node"));
        FaultyDisk disk = new FaultyDisk();
        StateFile file = new StateFile(node, disk);
        file.store(new TermState(4, "node-a"));
        disk.failNext(Op.FORCE, "state.tmp");
        IOException x = assertThrows(IOException.class, () -> file.store(new TermState(5, null)));
        assertEquals("cannot write state file " + node.resolve("state") + ": " + EIO, x.getMessage());
        assertEquals(List.of("state"), names(node));
        assertEquals(new TermState(4, "node-a"), file.load());

        disk.failNext(Op.FORCE, "node");
        IOException d = assertThrows(IOException.class, () -> file.store(new TermState(5, null)));
        assertEquals("cannot fsync state directory " + node + " after writing " + node.resolve("state") + ": " + EIO,
                d.getMessage());
        assertEquals(0, disk.openChannels());
    }
}
