package io.quorumd.storage;

import static io.quorumd.storage.LogStorageTest.entries;
import static io.quorumd.storage.SnapshotStoreTest.snap;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.core.TermState;
import io.quorumd.log.LogEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edges of the storage's limits and messages that PIT found unchecked: a payload of exactly
 * the limit, a segment size of one byte past the header, a batch that fills a segment exactly, a
 * snapshot past the log's end by one, the order of snapshots by index then term, and the exact
 * words of the damage an operator reads.
 */
class StorageEdgesTest {
    @TempDir Path dir;

    private static final long TWO_ENTRIES = LogSegment.HEADER_BYTES + 2 * (LogSegment.RECORD_HEADER_BYTES
            + LogSegment.BODY_FIXED_BYTES + 10);

    @Test
    void aPayloadOfExactlyTheLimitIsWrittenAndReadBackAndOneByteMoreIsRefused() throws Exception {
        byte[] max = new byte[LogSegment.MAX_PAYLOAD_BYTES];
        max[max.length - 1] = 7;
        try (LogStorage s = LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES).storage()) {
            s.append(List.of(new LogEntry(1, 1, max)));
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                    () -> s.append(List.of(new LogEntry(2, 1, new byte[LogSegment.MAX_PAYLOAD_BYTES + 1]))));
            assertTrue(x.getMessage().contains("more than the limit of " + LogSegment.MAX_PAYLOAD_BYTES), x.getMessage());
            s.sync();
        }
        List<LogEntry> back = LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES).entries();
        assertEquals(1, back.size());
        assertArrayEquals(max, back.get(0).payload());
    }

    @Test
    void aSegmentMayBeOneBytePastItsHeaderAndThenHoldsOneEntryEach() throws Exception {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> LogStorage.open(dir, 0, LogSegment.HEADER_BYTES));
        assertTrue(x.getMessage().contains("too small"), x.getMessage());
        try (LogStorage s = LogStorage.open(dir, 0, LogSegment.HEADER_BYTES + 1).storage()) {
            s.append(entries(1, 3, 1, 10));   // one batch: a full segment with one entry still rolls
            s.append(entries(4, 4, 1, 10));
            s.sync();
            assertEquals(4, s.segmentFiles().size(), s.segmentFiles().toString());
        }
        assertEquals(entries(1, 4, 1, 10), LogStorage.open(dir, 0, LogSegment.HEADER_BYTES + 1).entries());
    }

    @Test
    void aSnapshotOneEntryPastTheEndStillEmptiesTheLog() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, 10_000).storage()) {
            s.append(entries(1, 5, 1, 10));
            s.sync();
            s.compactPrefix(6);   // installed from the master: it covers index 6, which this log never held
            assertEquals(7, s.nextIndex());
            assertEquals(6, s.durableIndex());
            s.append(entries(7, 7, 1, 10));   // any term: the entry before it is in the snapshot
            s.sync();
        }
        assertEquals(entries(7, 7, 1, 10), LogStorage.open(dir, 6, 10_000).entries());
    }

    @Test
    void truncatingPastTheEndSaysWhereTheLogEnds() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, 10_000).storage()) {
            s.append(entries(1, 20, 1, 1));
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> s.truncateSuffix(22));
            assertEquals("cannot truncate the log from 22: it ends at 20", x.getMessage());
        }
    }

    @Test
    void anEmptyLastSegmentKeepsTheTermOfTheOneBeforeIt() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, TWO_ENTRIES).storage()) {
            s.append(entries(1, 2, 3, 10));
            s.append(entries(3, 3, 3, 10));
            s.sync();
        }
        // the crash came after the third segment's header, before its first record
        Path third = dir.resolve("log").resolve(LogSegment.fileName(3));
        Files.write(third, LogSegment.header(3));
        try (LogStorage s = LogStorage.open(dir, 0, TWO_ENTRIES).storage()) {
            assertEquals(3, s.nextIndex());
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> s.append(entries(3, 3, 2, 10)));
            assertTrue(x.getMessage().contains("below the term 3"), x.getMessage());
        }
    }

    @Test
    void segmentsThatOverlapAreNamedAsOverlapping() throws Exception {
        try (LogStorage s = LogStorage.open(dir, 0, TWO_ENTRIES).storage()) {
            s.append(entries(1, 4, 1, 10));
            s.sync();
        }
        ByteBuffer b = ByteBuffer.allocate(200);
        b.put(LogSegment.header(2));
        LogSegment.putRecord(b, new LogEntry(2, 1, new byte[10]));
        Files.write(dir.resolve("log").resolve(LogSegment.fileName(2)), Arrays.copyOf(b.array(), b.position()));
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogStorage.open(dir, 0, TWO_ENTRIES));
        assertTrue(x.problem().endsWith("before it ends at 2: the segments overlap"), x.problem());
    }

    private Path segment(byte[] bytes) throws Exception {
        Path f = dir.resolve(LogSegment.fileName(1));
        Files.write(f, bytes);
        return f;
    }

    private static byte[] headerWithVersion(int version, boolean fixCrc) {
        byte[] h = LogSegment.header(1);
        ByteBuffer.wrap(h).putInt(8, version);
        if (fixCrc) ByteBuffer.wrap(h).putInt(20, LogSegment.crc(h, 0, 20));
        return h;
    }

    @Test
    void eachKindOfBadHeaderHasItsOwnWords() throws Exception {
        Path eight = segment("XXXXXXXX".getBytes(StandardCharsets.US_ASCII));   // a short last segment, but not ours
        assertTrue(assertThrows(LogCorruptException.class, () -> LogSegment.scan(eight, 1, true)).problem()
                .startsWith("it does not start with QDLOGSEG"));

        Path v2 = segment(headerWithVersion(2, false));
        assertTrue(assertThrows(LogCorruptException.class, () -> LogSegment.scan(v2, 1, true)).problem()
                .startsWith("it has format v2, written by a newer quorumd"));
        Path v255 = segment(headerWithVersion(255, false));
        assertTrue(assertThrows(LogCorruptException.class, () -> LogSegment.scan(v255, 1, true)).problem()
                .startsWith("it has format v255, written by a newer quorumd"));
        for (int v : new int[] {1, 256}) {   // v1 with a bad checksum, and a version no quorumd wrote: damage
            Path f = segment(headerWithVersion(v, false));
            byte[] b = Files.readAllBytes(f);
            if (v == 1) b[20] ^= 1;
            Files.write(f, b);
            LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogSegment.scan(f, 1, true));
            assertTrue(x.problem().startsWith("its header checksum does not match"), v + ": " + x.problem());
            assertEquals(20, x.offset());
        }

        Path v0 = segment(headerWithVersion(0, true));
        assertEquals("it has format v0; this quorumd reads only v1",
                assertThrows(LogCorruptException.class, () -> LogSegment.scan(v0, 1, true)).problem());
        Path v3 = segment(headerWithVersion(3, true));
        assertEquals("it has format v3; this quorumd reads only v1 (run the newer quorumd that wrote it)",
                assertThrows(LogCorruptException.class, () -> LogSegment.scan(v3, 1, true)).problem());
    }

    @Test
    void aMiddleSegmentEndingAfterARecordHeaderSaysHowLongTheRecordWas() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(200);
        b.put(LogSegment.header(1));
        LogSegment.putRecord(b, new LogEntry(1, 1, new byte[10]));
        Path f = segment(Arrays.copyOf(b.array(), LogSegment.HEADER_BYTES + LogSegment.RECORD_HEADER_BYTES));
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogSegment.scan(f, 1, false));
        assertEquals("the file ends inside a record of 26 bytes (12 bytes left) and it is not the last segment", x.problem());
    }

    /** A record whose term field says {@code term}, with a valid checksum: LogEntry refuses to build one below 1. */
    private static byte[] rawRecord(long index, long term) {
        ByteBuffer r = ByteBuffer.allocate(100);
        LogSegment.putRecord(r, new LogEntry(index, 1, new byte[3]));
        byte[] raw = Arrays.copyOf(r.array(), r.position());
        ByteBuffer.wrap(raw).putLong(LogSegment.RECORD_HEADER_BYTES + 8, term);
        ByteBuffer.wrap(raw).putInt(8, LogSegment.crc(raw, LogSegment.RECORD_HEADER_BYTES, raw.length - LogSegment.RECORD_HEADER_BYTES));
        return raw;
    }

    @Test
    void aRecordsBadTermIsNamedExactly() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(200);
        b.put(LogSegment.header(1)).put(rawRecord(1, 0));
        Path zero = segment(Arrays.copyOf(b.array(), b.position()));
        assertEquals("the record of index 1 has term 0",
                assertThrows(LogCorruptException.class, () -> LogSegment.scan(zero, 1, true)).problem());

        b.clear();
        b.put(LogSegment.header(1)).put(rawRecord(1, 2)).put(rawRecord(2, 1));
        Path back = segment(Arrays.copyOf(b.array(), b.position()));
        assertEquals("the record of index 2 has term 1, below the term 2 before it (terms never go backwards)",
                assertThrows(LogCorruptException.class, () -> LogSegment.scan(back, 1, true)).problem());
    }

    @Test
    void aDamageMessageWithoutADirectoryPointsAtTheStateDirectory() {
        LogCorruptException x = new LogCorruptException(Path.of("snapshot-1-1"), 4, "a problem");
        assertTrue(x.getMessage().contains("Restore the state directory from a backup"), x.getMessage());
        LogCorruptException y = new LogCorruptException(Path.of("/var/lib/quorumd/log/segment"), 4, "a problem");
        assertTrue(y.getMessage().contains("Restore /var/lib/quorumd/log from a backup"), y.getMessage());
    }

    @Test
    void snapshotsAreOrderedByIndexThenTerm() throws Exception {
        for (SnapshotStore.Snapshot s : List.of(snap(9, 2, "a"), snap(5, 3, "b"), snap(9, 1, "c"))) {
            Files.write(dir.resolve(SnapshotStore.fileName(s.index(), s.term())), SnapshotStore.encode(s));
        }
        SnapshotStore.Loaded l = new SnapshotStore(dir).load();
        assertEquals(snap(9, 2, "a"), l.snapshot().orElseThrow());
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(dir.resolve("snapshot-9-2")), files.toList());
        }
    }

    @Test
    void aSnapshotAtIndexOneIsValidAndItsRecordBehavesAsAValue() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> snap(0, 1, "x"));
        assertThrows(IllegalArgumentException.class, () -> snap(1, 0, "x"));
        new SnapshotStore(dir).store(snap(1, 1, "first"));
        SnapshotStore.Snapshot s = new SnapshotStore(dir).load().snapshot().orElseThrow();
        assertEquals(snap(1, 1, "first"), s);
        assertEquals(snap(1, 1, "first").hashCode(), s.hashCode());
        assertNotEquals(snap(1, 1, "other"), s);
        assertNotEquals(snap(2, 1, "first"), s);
        assertNotEquals(snap(1, 2, "first"), s);
        assertNotEquals(snap(1, 1, "first").hashCode(), snap(1, 1, "firsu").hashCode());
        assertNotEquals(snap(1, 1, "x").hashCode(), snap(2, 1, "x").hashCode());
        assertNotEquals(snap(1, 1, "x").hashCode(), snap(1, 2, "x").hashCode());
        assertEquals("Snapshot[index=1, term=1, data=5 bytes]", s.toString(), "the size, never the state's bytes");
        byte[] data = s.data();
        data[0] = 'X';
        assertArrayEquals("first".getBytes(StandardCharsets.UTF_8), s.data(), "data() is a copy");
        assertNotSame(s.data(), s.data());
    }

    @Test
    void theDamageOffsetsOfASnapshotArePrecise() throws Exception {
        byte[] good = SnapshotStore.encode(snap(7, 2, "some state"));
        byte[] flipped = good.clone();
        flipped[SnapshotStore.HEADER_BYTES] ^= 1;
        Files.write(dir.resolve("snapshot-7-2"), flipped);
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> new SnapshotStore(dir).load());
        assertEquals(good.length - 4, x.offset(), "the checksum's own offset");

        byte[] lying = good.clone();   // a length field that disagrees with the file, under a valid checksum
        ByteBuffer.wrap(lying).putLong(28, 3);
        ByteBuffer.wrap(lying).putInt(lying.length - 4, LogSegment.crc(lying, 0, lying.length - 4));
        Files.write(dir.resolve("snapshot-7-2"), lying);
        LogCorruptException y = assertThrows(LogCorruptException.class, () -> new SnapshotStore(dir).load());
        assertEquals(28, y.offset());
        assertEquals("its header says 3 bytes of data, the file holds 10", y.problem());
    }

    @Test
    void aNewerSnapshotOfTheSameIndexReplacesTheOneOfAnOlderTerm() throws Exception {
        SnapshotStore store = new SnapshotStore(dir);
        store.store(snap(9, 2, "term 2"));
        store.store(snap(9, 3, "term 3"));
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(dir.resolve("snapshot-9-3")), files.toList());
        }
    }

    @Test
    void aRecordsChecksumMismatchShowsBothChecksums() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(200);
        b.put(LogSegment.header(1));
        LogSegment.putRecord(b, new LogEntry(1, 1, new byte[10]));
        byte[] bytes = Arrays.copyOf(b.array(), b.position());
        bytes[bytes.length - 1] ^= 1;
        Path f = segment(bytes);
        String problem = assertThrows(LogCorruptException.class, () -> LogSegment.scan(f, 1, true)).problem();
        assertTrue(problem.matches("the record's checksum does not match \\(stored crc32c [0-9a-f]{8}, computed [0-9a-f]{8}\\)"),
                problem);
    }

    @Test
    void aSnapshotNameBeyondALongIsDamageNotACrash() throws Exception {
        Files.write(dir.resolve("snapshot-9999999999999999999-1"), SnapshotStore.encode(snap(1, 1, "x")));
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> new SnapshotStore(dir).load());
        assertTrue(x.problem().endsWith("its name says index -1, term 1"), x.problem());
    }

    private static String damage(StateFile file, String content) {
        return assertThrows(StateFileException.class, () -> file.decode(content.getBytes(StandardCharsets.UTF_8)))
                .getMessage();
    }

    @Test
    void theStateFileNamesItsPathAndItsDamageExactly() {
        StateFile file = new StateFile(dir);
        assertEquals(dir.resolve("state"), file.path());
        String forty = "x".repeat(40);
        assertTrue(damage(file, forty + "\n").contains("(got '" + forty + "')"), "40 characters are shown whole");
        assertTrue(damage(file, forty + "y\n").contains("(got '" + forty + "...')"), "41 are cut at 40");
        assertTrue(damage(file, "quorumd state\n").contains("(got 'quorumd state')"), "a space is shown as it is");
        assertTrue(damage(file, "\nterm=1\n").contains("(got '')"), "an empty first line");
        String most = "y".repeat(4096);
        assertFalse(damage(file, most).contains("larger than"), "4096 bytes are allowed");
        assertTrue(damage(file, most + "y").contains("it is larger than 4096 bytes"));
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> StateFile.encode(new TermState(1, "a b\u0001")));
        assertTrue(x.getMessage().endsWith(": a b\\x01"), x.getMessage());
    }
}
