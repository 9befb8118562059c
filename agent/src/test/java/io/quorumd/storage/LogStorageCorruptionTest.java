package io.quorumd.storage;

import static io.quorumd.storage.LogStorageTest.entries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.log.LogEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crashes and damage: a torn tail is repaired and reported, everything else refuses with file and offset. */
class LogStorageCorruptionTest {
    private static final long SEGMENT_BYTES = 400;
    private static final int PAYLOAD = 40;
    private static final int RECORD = LogSegment.RECORD_HEADER_BYTES + LogSegment.BODY_FIXED_BYTES + PAYLOAD;

    @TempDir Path tmp;

    /** Writes entries 1..n (terms 1 then 2) into small segments and returns the segment files' bytes. */
    private TreeMap<String, byte[]> written(int n) throws Exception {
        Path dir = tmp.resolve("original");
        try (LogStorage s = LogStorage.open(dir, 0, SEGMENT_BYTES).storage()) {
            s.append(entries(1, n / 2, 1, PAYLOAD));
            s.append(entries(n / 2 + 1, n, 2, PAYLOAD));
            s.sync();
        }
        TreeMap<String, byte[]> files = new TreeMap<>();
        for (Path f : LogStorageTest.logFiles(dir)) files.put(f.getFileName().toString(), Files.readAllBytes(f));
        return files;
    }

    private static List<LogEntry> expected(long upTo, int n) {
        List<LogEntry> all = new ArrayList<>(entries(1, n / 2, 1, PAYLOAD));
        all.addAll(entries(n / 2 + 1, n, 2, PAYLOAD));
        return all.subList(0, (int) upTo);
    }

    private Path copy(TreeMap<String, byte[]> files, String name) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir.resolve(LogStorage.DIR_NAME));
        for (Map.Entry<String, byte[]> f : files.entrySet())
            Files.write(dir.resolve(LogStorage.DIR_NAME).resolve(f.getKey()), f.getValue());
        return dir;
    }

    private static long firstIndexOf(String name) {
        return Long.parseLong(name.substring(8, 28));
    }

    @Test
    void aTornTailAtEveryByteOfTheLastRecordIsTruncatedAndReported() throws Exception {
        int n = 20;
        TreeMap<String, byte[]> files = written(n);
        assertTrue(files.size() >= 3, "several segments: " + files.keySet());
        String lastName = files.lastKey();
        byte[] last = files.get(lastName);
        int lastRecordStart = last.length - RECORD;
        for (int cut = lastRecordStart + 1; cut < last.length; cut++) {
            TreeMap<String, byte[]> crashed = new TreeMap<>(files);
            crashed.put(lastName, java.util.Arrays.copyOf(last, cut));
            Path dir = copy(crashed, "cut-" + cut);
            LogStorage.Opened o = LogStorage.open(dir, 0, SEGMENT_BYTES);
            try (LogStorage s = o.storage()) {
                assertEquals(expected(n - 1, n), o.entries(), "cut at " + cut);
                assertEquals(1, o.notes().size(), "cut at " + cut + ": " + o.notes());
                String note = o.notes().get(0);
                assertTrue(note.contains("torn tail") && note.contains(lastName) && note.contains("at byte " + lastRecordStart)
                        && note.contains((cut - lastRecordStart) + " bytes"), note);
                assertEquals(lastRecordStart, Files.size(dir.resolve("log").resolve(lastName)), "truncated to the whole records");
                assertEquals(n - 1, s.durableIndex());
                s.append(entries(n, n, 3, 1));   // the log goes on from there
                s.sync();
            }
            LogStorage.Opened again = LogStorage.open(dir, 0, SEGMENT_BYTES);
            again.storage().close();
            assertTrue(again.notes().isEmpty(), "repaired once: " + again.notes());
            assertEquals(n, again.entries().size());
        }
        // the cut exactly at the record boundary is a clean end, not a tear
        TreeMap<String, byte[]> clean = new TreeMap<>(files);
        clean.put(lastName, java.util.Arrays.copyOf(last, lastRecordStart));
        LogStorage.Opened o = LogStorage.open(copy(clean, "boundary"), 0, SEGMENT_BYTES);
        o.storage().close();
        assertTrue(o.notes().isEmpty(), o.notes().toString());
        assertEquals(expected(n - 1, n), o.entries());
    }

    @Test
    void aSegmentWhoseCreationWasInterruptedIsRemovedAndReported() throws Exception {
        int n = 20;
        TreeMap<String, byte[]> files = written(n);
        for (int cut = 0; cut < LogSegment.HEADER_BYTES; cut++) {
            TreeMap<String, byte[]> crashed = new TreeMap<>(files);
            String name = LogSegment.fileName(n + 1);
            crashed.put(name, java.util.Arrays.copyOf(LogSegment.header(n + 1), cut));
            Path dir = copy(crashed, "hdr-" + cut);
            LogStorage.Opened o = LogStorage.open(dir, 0, SEGMENT_BYTES);
            o.storage().close();
            assertEquals(expected(n, n), o.entries());
            assertEquals(1, o.notes().size());
            assertTrue(o.notes().get(0).contains(name) && o.notes().get(0).contains("interrupted its creation"), o.notes().get(0));
            assertFalse(Files.exists(dir.resolve("log").resolve(name)));
        }
    }

    @Test
    void aFlippedByteAnywhereInAMiddleRecordRefusesWithFileAndOffset() throws Exception {
        int n = 20;
        TreeMap<String, byte[]> files = written(n);
        String middle = files.keySet().toArray(new String[0])[1];
        byte[] bytes = files.get(middle);
        int recordStart = LogSegment.HEADER_BYTES + RECORD;   // the segment's second record
        for (int at = recordStart; at < recordStart + RECORD; at++) {
            TreeMap<String, byte[]> damaged = new TreeMap<>(files);
            byte[] b = bytes.clone();
            b[at] ^= 0x10;
            damaged.put(middle, b);
            Path dir = copy(damaged, "flip-" + at);
            LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogStorage.open(dir, 0, SEGMENT_BYTES),
                    "flip at " + at);
            assertEquals(dir.resolve("log").resolve(middle), x.file());
            assertEquals(recordStart, x.offset(), "flip at " + at + ": " + x.problem());
            assertTrue(x.getMessage().contains(middle) && x.getMessage().contains("at byte " + recordStart), x.getMessage());
            assertEquals(b[at], Files.readAllBytes(dir.resolve("log").resolve(middle))[at], "nothing was reset or rewritten");
        }
    }

    @Test
    void aFlippedByteInTheLastWholeRecordIsCorruptionNotATornTail() throws Exception {
        int n = 20;
        TreeMap<String, byte[]> files = written(n);
        String lastName = files.lastKey();
        byte[] last = files.get(lastName);
        int start = last.length - RECORD;
        for (int at = start; at < last.length; at++) {
            TreeMap<String, byte[]> damaged = new TreeMap<>(files);
            byte[] b = last.clone();
            b[at] ^= 0x01;
            damaged.put(lastName, b);
            Path dir = copy(damaged, "flip-last-" + at);
            LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogStorage.open(dir, 0, SEGMENT_BYTES),
                    "flip at " + at + " must not be taken for a tear (a damaged length could hide synced records)");
            assertEquals(start, x.offset());
        }
    }

    @Test
    void aMissingSegmentRefusesNamingTheGap() throws Exception {
        TreeMap<String, byte[]> files = written(20);
        String[] names = files.keySet().toArray(new String[0]);
        TreeMap<String, byte[]> noMiddle = new TreeMap<>(files);
        noMiddle.remove(names[1]);
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogStorage.open(copy(noMiddle, "m"), 0, SEGMENT_BYTES));
        assertTrue(x.problem().contains("a segment is missing") && x.problem().contains(names[0]), x.problem());
        assertTrue(x.file().toString().endsWith(names[2]));

        TreeMap<String, byte[]> noFirst = new TreeMap<>(files);
        noFirst.remove(names[0]);
        LogCorruptException y = assertThrows(LogCorruptException.class, () -> LogStorage.open(copy(noFirst, "f"), 0, SEGMENT_BYTES));
        assertTrue(y.problem().contains("entries 1.." + (firstIndexOf(names[1]) - 1) + " are missing"), y.problem());
        // the same files are fine when a snapshot covers what the first segment held
        LogStorage.Opened o = LogStorage.open(copy(noFirst, "f2"), firstIndexOf(names[1]) - 1, SEGMENT_BYTES);
        o.storage().close();
        assertEquals(firstIndexOf(names[1]), o.entries().get(0).index());
    }

    @Test
    void aDamagedHeaderRefuses() throws Exception {
        TreeMap<String, byte[]> files = written(20);
        String first = files.firstKey();

        byte[] magic = files.get(first).clone();
        magic[0] = 'X';
        assertRefused(files, first, magic, 0, "does not start with QDLOGSEG");

        byte[] crc = files.get(first).clone();
        crc[13] ^= 1;   // inside the first index: the header CRC no longer matches
        assertRefused(files, first, crc, 20, "header checksum");

        byte[] v2 = files.get(first).clone();
        ByteBuffer.wrap(v2).putInt(8, 2).putInt(20, LogSegment.crc(v2, 0, 20));
        assertRefused(files, first, v2, 8, "format v2");

        TreeMap<String, byte[]> renamed = new TreeMap<>(files);
        String[] names = files.keySet().toArray(new String[0]);
        byte[] second = renamed.remove(names[1]);
        renamed.put(LogSegment.fileName(firstIndexOf(names[1]) + 1), second);
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogStorage.open(copy(renamed, "r"), 0, SEGMENT_BYTES));
        assertEquals(12, x.offset());
        assertTrue(x.problem().contains("its name says"), x.problem());

        byte[] shortHeader = java.util.Arrays.copyOf(files.get(first), 10);
        assertRefused(files, first, shortHeader, 0, "header is incomplete");
    }

    private void assertRefused(TreeMap<String, byte[]> files, String name, byte[] content, long offset, String problem)
            throws IOException {
        TreeMap<String, byte[]> damaged = new TreeMap<>(files);
        damaged.put(name, content);
        Path dir = copy(damaged, "h-" + problem.replaceAll("[^a-z0-9]", ""));
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogStorage.open(dir, 0, SEGMENT_BYTES));
        assertEquals(offset, x.offset(), x.getMessage());
        assertTrue(x.problem().contains(problem), x.problem());
    }

    @Test
    void aMiddleSegmentThatEndsInsideARecordRefuses() throws Exception {
        TreeMap<String, byte[]> files = written(20);
        String middle = files.keySet().toArray(new String[0])[1];
        byte[] b = files.get(middle);
        TreeMap<String, byte[]> cut = new TreeMap<>(files);
        cut.put(middle, java.util.Arrays.copyOf(b, b.length - 3));
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogStorage.open(copy(cut, "c"), 0, SEGMENT_BYTES));
        assertEquals(b.length - RECORD, x.offset());
        assertTrue(x.problem().contains("not the last segment"), x.problem());
    }

    @Test
    void aGapOrATermGoingBackInsideASegmentRefuses() throws Exception {
        Path dir = tmp.resolve("gap");
        Files.createDirectories(dir.resolve("log"));
        ByteBuffer b = ByteBuffer.allocate(1000);
        b.put(LogSegment.header(1));
        LogSegment.putRecord(b, new LogEntry(1, 1, new byte[3]));
        LogSegment.putRecord(b, new LogEntry(2, 1, new byte[3]));
        int third = b.position();
        LogSegment.putRecord(b, new LogEntry(4, 1, new byte[3]));
        Files.write(dir.resolve("log").resolve(LogSegment.fileName(1)), java.util.Arrays.copyOf(b.array(), b.position()));
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogStorage.open(dir, 0, SEGMENT_BYTES));
        assertEquals(third, x.offset());
        assertTrue(x.problem().contains("index 4 where 3 was due"), x.problem());

        b.position(third);
        LogSegment.putRecord(b, new LogEntry(3, 1, new byte[3]));
        int fourth = b.position();
        ByteBuffer tail = ByteBuffer.allocate(100);
        LogSegment.putRecord(tail, new LogEntry(4, 1, new byte[3]));
        // a record claiming term 0 cannot be built through LogEntry: write one by hand
        byte[] raw = java.util.Arrays.copyOf(tail.array(), tail.position());
        ByteBuffer.wrap(raw).putLong(LogSegment.RECORD_HEADER_BYTES + 8, 0);
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(raw, LogSegment.RECORD_HEADER_BYTES, raw.length - LogSegment.RECORD_HEADER_BYTES);
        ByteBuffer.wrap(raw).putInt(8, (int) c.getValue());
        b.put(raw);
        Files.write(dir.resolve("log").resolve(LogSegment.fileName(1)), java.util.Arrays.copyOf(b.array(), b.position()));
        LogCorruptException y = assertThrows(LogCorruptException.class, () -> LogStorage.open(dir, 0, SEGMENT_BYTES));
        assertEquals(fourth, y.offset());
        assertTrue(y.problem().contains("index 4 has term 0"), y.problem());
    }

    @Test
    void afterAFailedOperationOrCloseTheStorageRefusesFurtherUse() throws Exception {
        Path dir = tmp.resolve("broken");
        LogStorage s = LogStorage.open(dir, 0, 10_000).storage();
        s.append(entries(1, 5, 1, 5));
        s.sync();
        // damage the segment under the open storage: the truncation's re-read finds it
        Path seg = s.segmentFiles().get(0);
        byte[] b = Files.readAllBytes(seg);
        b[LogSegment.HEADER_BYTES + LogSegment.RECORD_HEADER_BYTES + 3] ^= 1;
        Files.write(seg, b);
        IOException x = assertThrows(IOException.class, () -> s.truncateSuffix(3));
        assertTrue(x.getMessage().contains("checksum does not match"), x.getMessage());
        IOException y = assertThrows(IOException.class, s::sync);
        assertTrue(y.getMessage().contains("unusable") && y.getMessage().contains("restart the agent"), y.getMessage());
        assertThrows(IOException.class, () -> s.append(entries(6, 6, 1, 5)));
        s.close();

        LogStorage t = LogStorage.open(tmp.resolve("closed"), 0, 10_000).storage();
        t.close();
        IOException z = assertThrows(IOException.class, () -> t.append(entries(1, 1, 1, 5)));
        assertTrue(z.getMessage().contains("closed"), z.getMessage());
    }
}
