package io.quorumd.storage;

import static io.quorumd.storage.LogStorageTest.entries;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quorumd.core.TermState;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The order of the durable steps that {@code package-info.java} promises, read from the journal of
 * a {@link FaultyDisk} that fails nothing: a file is fsynced before it is relied on (renamed into
 * place, counted as durable, acknowledged), and every directory entry that is created, renamed or
 * deleted is followed by an fsync of its directory before the step that depends on it. A crash
 * between two steps then leaves a state that the next open recovers; a missing fsync leaves no
 * other trace a test could see, so the journal is the test. Also: an fsync only when something is
 * new (group commit), and every channel closed again.
 */
class DurableStepsTest {
    @TempDir Path tmp;

    private static final String S1 = "segment-00000000000000000001.log";
    private static final String S3 = "segment-00000000000000000003.log";
    /** Header (24 bytes) and two records of 38 bytes (payload 10): a segment holds exactly two entries. */
    private static final long TWO_ENTRIES = LogSegment.HEADER_BYTES + 2 * (LogSegment.RECORD_HEADER_BYTES
            + LogSegment.BODY_FIXED_BYTES + 10);

    @Test
    void theLogFsyncsEachSegmentAndItsDirectoryBeforeRelyingOnThem() throws Exception {
        Path node = tmp.resolve("node");
        FaultyDisk disk = new FaultyDisk();
        LogStorage s = LogStorage.open(node, 0, TWO_ENTRIES, disk).storage();
        assertEquals(List.of("FORCE node"), disk.journalSinceLast(), "the new log directory's entry");

        s.append(entries(1, 3, 1, 10));
        assertEquals(List.of(
                "WRITE " + S1, "FORCE " + S1, "FORCE log",   // the first segment's header, durable before use
                "WRITE " + S1,                                 // entries 1 and 2 fill it exactly
                "FORCE " + S1,                                 // rolling: the full segment is fsynced
                "WRITE " + S3, "FORCE " + S3, "FORCE log",   // the next one created like the first
                "WRITE " + S3), disk.journalSinceLast());
        assertEquals(List.of(node.resolve("log").resolve(S1), node.resolve("log").resolve(S3)), s.segmentFiles());
        assertEquals(2, s.durableIndex(), "the roll's fsync made entries 1 and 2 durable");

        assertEquals(3, s.sync());
        assertEquals(List.of("FORCE " + S3), disk.journalSinceLast(), "one fsync, of the segment being written");
        assertEquals(3, s.sync());
        assertEquals(List.of(), disk.journalSinceLast(), "nothing new: no fsync");

        s.truncateSuffix(2);
        assertEquals(List.of("DELETE " + S3, "FORCE log", "TRUNCATE " + S1, "FORCE " + S1), disk.journalSinceLast());
        assertEquals(1, s.sync());
        assertEquals(List.of(), disk.journalSinceLast(), "the truncation's fsync covers entry 1");

        assertEquals(0, s.compactPrefix(0));
        assertEquals(List.of(), disk.journalSinceLast(), "nothing deleted: no directory fsync");
        assertEquals(1, s.compactPrefix(1));
        assertEquals(List.of("DELETE " + S1, "FORCE log"), disk.journalSinceLast());
        assertEquals(0, disk.openChannels(), "the deleted last segment's channel is closed");

        s.append(entries(2, 2, 1, 10));
        s.sync();
        disk.journalSinceLast();
        assertEquals(1, disk.openChannels(), "one channel: the segment being written");
        s.close();
        assertEquals(0, disk.openChannels());
    }

    @Test
    void openFsyncsWhatItRepairsAndWhatACrashMayHaveLeftInThePageCache() throws Exception {
        Path node = tmp.resolve("node");
        try (LogStorage s = LogStorage.open(node, 0, TWO_ENTRIES).storage()) {
            s.append(entries(1, 4, 1, 10));
            s.sync();
        }
        FaultyDisk disk = new FaultyDisk();
        LogStorage.open(node, 0, TWO_ENTRIES, disk).storage().close();
        assertEquals(List.of("FORCE " + S3), disk.journalSinceLast(),
                "an intact log: only the last segment is fsynced (a crashed writer's pages), no directory fsync");

        try (OutputStream out = Files.newOutputStream(node.resolve("log").resolve(S3), StandardOpenOption.APPEND)) {
            out.write(new byte[] {0, 0, 0});   // a torn record header
        }
        LogStorage.Opened o = LogStorage.open(node, 0, TWO_ENTRIES, disk);
        o.storage().close();
        assertEquals(entries(1, 4, 1, 10), o.entries());
        assertEquals(List.of("TRUNCATE " + S3, "FORCE " + S3, "FORCE " + S3), disk.journalSinceLast(),
                "the cut is fsynced where it is made; the last segment once more by open");

        LogStorage.Opened c = LogStorage.open(node, 2, TWO_ENTRIES, disk);   // a snapshot at 2: the compaction a crash interrupted
        c.storage().close();
        assertEquals(entries(3, 4, 1, 10), c.entries());
        assertEquals(List.of("DELETE " + S1, "FORCE log", "FORCE " + S3), disk.journalSinceLast());
        assertEquals(0, disk.openChannels());
    }

    @Test
    void aSnapshotIsFsyncedBeforeItsRenameAndTheOlderGoesOnlyAfterTheDirectoryFsync() throws Exception {
        Path node = Files.createDirectory(tmp.resolve("node"));
        FaultyDisk disk = new FaultyDisk();
        SnapshotStore store = new SnapshotStore(node, disk);
        store.store(SnapshotStoreTest.snap(5, 2, "at 5"));
        assertEquals(List.of("WRITE snapshot-5-2.tmp", "FORCE snapshot-5-2.tmp", "RENAME snapshot-5-2.tmp>snapshot-5-2",
                "FORCE node"), disk.journalSinceLast());
        store.store(SnapshotStoreTest.snap(9, 3, "at 9"));
        assertEquals(List.of("WRITE snapshot-9-3.tmp", "FORCE snapshot-9-3.tmp", "RENAME snapshot-9-3.tmp>snapshot-9-3",
                "FORCE node", "DELETE snapshot-5-2", "FORCE node"), disk.journalSinceLast());

        assertEquals(9, store.load().snapshot().orElseThrow().index());
        assertEquals(List.of(), disk.journalSinceLast(), "a load that removes nothing changes nothing");
        Files.write(node.resolve("snapshot-12-3.tmp"), new byte[] {1});
        Files.write(node.resolve("snapshot-4-1"), SnapshotStore.encode(SnapshotStoreTest.snap(4, 1, "old")));
        assertEquals(9, store.load().snapshot().orElseThrow().index());
        assertEquals(List.of("DELETE snapshot-12-3.tmp", "DELETE snapshot-4-1", "FORCE node"), disk.journalSinceLast(),
                "the removals are made durable");
        assertEquals(0, disk.openChannels());
    }

    @Test
    void theStateFileIsFsyncedBeforeItsRenameAndTheDirectoryAfter() throws Exception {
        Path node = Files.createDirectory(tmp.resolve("node"));
        FaultyDisk disk = new FaultyDisk();
        StateFile file = new StateFile(node, disk);
        file.store(new TermState(3, "node-b"));
        assertEquals(List.of("WRITE state.tmp", "FORCE state.tmp", "RENAME state.tmp>state", "FORCE node"), disk.journal());
        assertEquals(new TermState(3, "node-b"), file.load());
        assertEquals(0, disk.openChannels());
    }
}
