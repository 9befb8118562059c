package io.quorumd.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.log.LogEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStorageTest {
    @TempDir Path dir;

    static LogEntry entry(long index, long term, int size) {
        byte[] p = new byte[size];
        for (int i = 0; i < size; i++) p[i] = (byte) (index * 31 + i);
        return new LogEntry(index, term, p);
    }

    static List<LogEntry> entries(long from, long to, long term, int size) {
        List<LogEntry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) out.add(entry(i, term, size));
        return out;
    }

    static List<Path> logFiles(Path stateDir) throws IOException {
        try (Stream<Path> s = Files.list(stateDir.resolve(LogStorage.DIR_NAME))) {
            return s.sorted().toList();
        }
    }

    @Test
    void appendSyncAndReopenGiveTheSameEntries() throws Exception {
        LogStorage.Opened o = LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES);
        assertTrue(o.entries().isEmpty());
        assertTrue(o.notes().isEmpty());
        try (LogStorage s = o.storage()) {
            assertEquals(1, s.nextIndex());
            s.append(entries(1, 10, 1, 100));
            assertEquals(10, s.lastIndex());
            assertEquals(0, s.durableIndex(), "written, not yet fsynced");
            assertEquals(10, s.sync(), "one fsync covers the batch");
            s.append(entries(11, 12, 2, 0));
            assertEquals(12, s.sync());
        }
        LogStorage.Opened again = LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES);
        try (LogStorage s = again.storage()) {
            List<LogEntry> expected = new ArrayList<>(entries(1, 10, 1, 100));
            expected.addAll(entries(11, 12, 2, 0));
            assertEquals(expected, again.entries());
            assertTrue(again.notes().isEmpty(), again.notes().toString());
            assertEquals(12, s.durableIndex());
            assertEquals(13, s.nextIndex());
        }
        List<Path> files = logFiles(dir);
        assertEquals(List.of(dir.resolve("log/segment-00000000000000000001.log")), files);
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.get(0))));
    }

    @Test
    void segmentsRollAtTheSizeLimitAndReadBackInOrder() throws Exception {
        long max = 300;
        try (LogStorage s = LogStorage.open(dir, 0, max).storage()) {
            s.append(entries(1, 30, 1, 40));   // 68-byte records
            s.append(entries(31, 40, 2, 40));
            s.sync();
        }
        List<Path> files = logFiles(dir);
        assertTrue(files.size() >= 8, files.toString());
        int record = LogSegment.RECORD_HEADER_BYTES + LogSegment.BODY_FIXED_BYTES + 40;
        for (Path f : files) assertTrue(Files.size(f) < max + record, f + " is " + Files.size(f) + " bytes");
        LogStorage.Opened o = LogStorage.open(dir, 0, max);
        o.storage().close();
        List<LogEntry> expected = new ArrayList<>(entries(1, 30, 1, 40));
        expected.addAll(entries(31, 40, 2, 40));
        assertEquals(expected, o.entries());
    }

    @Test
    void appendRefusesGapsAndTermsGoingBack() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, 1000).storage()) {
            s.append(entries(1, 3, 2, 5));
            IllegalArgumentException gap = assertThrows(IllegalArgumentException.class, () -> s.append(entries(5, 5, 2, 5)));
            assertTrue(gap.getMessage().contains("entry 5 appended where 4 is due"), gap.getMessage());
            IllegalArgumentException back = assertThrows(IllegalArgumentException.class, () -> s.append(entries(4, 4, 1, 5)));
            assertTrue(back.getMessage().contains("term 1, below the term 2"), back.getMessage());
            s.append(entries(4, 4, 2, 5));   // the refusals wrote nothing
            assertEquals(4, s.sync());
        }
    }

    @Test
    void truncateSuffixWithinASegmentAcrossSegmentsAndToNothing() throws Exception {
        long max = 200;
        try (LogStorage s = LogStorage.open(dir, 0, max).storage()) {
            s.append(entries(1, 20, 1, 30));
            s.sync();
            int before = s.segmentFiles().size();
            s.truncateSuffix(14);   // a conflicting tail
            assertEquals(13, s.lastIndex());
            assertEquals(13, s.durableIndex());
            assertTrue(s.segmentFiles().size() < before);
            s.append(entries(14, 16, 3, 30));
            s.sync();
        }
        List<LogEntry> expected = new ArrayList<>(entries(1, 13, 1, 30));
        expected.addAll(entries(14, 16, 3, 30));
        LogStorage.Opened o = LogStorage.open(dir, 0, max);
        assertEquals(expected, o.entries());
        try (LogStorage s = o.storage()) {
            // at a segment boundary: the segment starting there goes entirely
            long boundary = Long.parseLong(s.segmentFiles().get(1).getFileName().toString().substring(8, 28));
            s.truncateSuffix(boundary);
            assertEquals(boundary - 1, s.lastIndex());
            assertEquals(1, s.segmentFiles().size());
            s.truncateSuffix(1);
            assertEquals(0, s.lastIndex());
            assertTrue(s.segmentFiles().isEmpty());
            assertTrue(logFiles(dir).isEmpty());
            s.append(entries(1, 2, 4, 1));
            s.sync();
        }
        assertEquals(entries(1, 2, 4, 1), LogStorage.open(dir, 0, max).entries());
    }

    @Test
    void truncateSuffixNeverReachesTheSnapshot() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, 200).storage()) {
            s.append(entries(1, 20, 1, 30));
            s.sync();
            s.compactPrefix(10);
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> s.truncateSuffix(10));
            assertTrue(x.getMessage().contains("snapshot covers up to 10"), x.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.truncateSuffix(22), "past the end");
            s.truncateSuffix(21);   // nothing to remove
            assertEquals(20, s.lastIndex());
        }
    }

    @Test
    void compactPrefixDeletesOnlyWholeCoveredSegments() throws Exception {
        long max = 200;
        try (LogStorage s = LogStorage.open(dir, 0, max).storage()) {
            s.append(entries(1, 40, 1, 30));
            s.sync();
            List<Path> before = s.segmentFiles();
            int deleted = s.compactPrefix(17);
            assertTrue(deleted > 0);
            assertEquals(before.size() - deleted, s.segmentFiles().size());
            long first = Long.parseLong(s.segmentFiles().get(0).getFileName().toString().substring(8, 28));
            assertTrue(first <= 18, "the segment holding 18 stays (starts at " + first + ")");
            assertEquals(40, s.lastIndex());
        }
        LogStorage.Opened o = LogStorage.open(dir, 17, max);
        o.storage().close();
        assertEquals(entries(18, 40, 1, 30), o.entries(), "entries after the snapshot");
        assertTrue(o.notes().isEmpty(), o.notes().toString());
    }

    @Test
    void aSnapshotPastTheEndEmptiesTheLogAndTheNextEntryFollowsIt() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, 200).storage()) {
            s.append(entries(1, 5, 1, 10));
            s.sync();
            s.compactPrefix(50);   // a snapshot installed from the master
            assertTrue(s.segmentFiles().isEmpty());
            assertEquals(51, s.nextIndex());
            assertEquals(50, s.durableIndex());
            s.append(entries(51, 52, 3, 10));
            s.sync();
        }
        LogStorage.Opened o = LogStorage.open(dir, 50, 200);
        o.storage().close();
        assertEquals(entries(51, 52, 3, 10), o.entries());
    }

    @Test
    void openFinishesACompactionThatACrashInterrupted() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, 200).storage()) {
            s.append(entries(1, 40, 1, 30));
            s.sync();
        }
        int files = logFiles(dir).size();
        // the snapshot at 30 became durable, then the agent died before compacting
        LogStorage.Opened o = LogStorage.open(dir, 30, 200);
        o.storage().close();
        assertEquals(entries(31, 40, 1, 30), o.entries());
        assertFalse(o.notes().isEmpty());
        assertTrue(o.notes().stream().allMatch(n -> n.contains("interrupted compaction")), o.notes().toString());
        assertEquals(files - o.notes().size(), logFiles(dir).size());
    }

    @Test
    void aLoopOfAppendsSnapshotsAndCompactionsKeepsTheDiskBounded() throws Exception {
        long max = 4096;
        SnapshotStore snapshots = new SnapshotStore(dir);
        long maxFiles = 0;
        long maxBytes = 0;
        LogStorage s = LogStorage.open(dir, 0, max).storage();
        try {
            for (int round = 1; round <= 150; round++) {
                long from = s.nextIndex();
                s.append(entries(from, from + 19, round, 100));
                s.sync();
                if (round % 10 == 0) {
                    long upTo = s.lastIndex() - 5;   // the state machine applied all but a few
                    snapshots.store(new SnapshotStore.Snapshot(upTo, round, new byte[2000]));
                    s.compactPrefix(upTo);
                }
                if (round % 47 == 0) {   // restarts along the way
                    s.close();
                    SnapshotStore.Loaded l = snapshots.load();
                    s = LogStorage.open(dir, l.snapshot().orElseThrow().index(), max).storage();
                }
                long files = 0;
                long bytes = 0;
                for (Path f : logFiles(dir)) {
                    files++;
                    bytes += Files.size(f);
                }
                try (Stream<Path> st = Files.list(dir)) {
                    for (Path f : st.filter(p -> p.getFileName().toString().startsWith("snapshot-")).toList()) {
                        files++;
                        bytes += Files.size(f);
                    }
                }
                maxFiles = Math.max(maxFiles, files);
                maxBytes = Math.max(maxBytes, bytes);
            }
        } finally {
            s.close();
        }
        // 10 rounds of 20 x 136-byte records between compactions: about 27 KiB of log, 7 segments
        assertTrue(maxFiles <= 12, "files on disk peaked at " + maxFiles);
        assertTrue(maxBytes <= 48 * 1024, "bytes on disk peaked at " + maxBytes);
        try (Stream<Path> st = Files.list(dir)) {
            assertEquals(1, st.filter(p -> p.getFileName().toString().startsWith("snapshot-")).count(), "one snapshot left");
        }
    }

    @Test
    void anUnknownFileInTheLogDirectoryIsReportedNotRead() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, 200).storage()) {
            s.append(entries(1, 2, 1, 10));
            s.sync();
        }
        Files.writeString(dir.resolve("log/notes.txt"), "hello");
        LogStorage.Opened o = LogStorage.open(dir, 0, 200);
        o.storage().close();
        assertEquals(2, o.entries().size());
        assertEquals(1, o.notes().size());
        assertTrue(o.notes().get(0).contains("notes.txt"));
    }
}
