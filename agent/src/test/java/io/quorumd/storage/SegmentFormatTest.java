package io.quorumd.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.log.LogEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The segment layout byte for byte as storage's package-info documents it, so the two cannot drift apart. */
class SegmentFormatTest {
    @TempDir Path dir;

    private static int crc32c(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    @Test
    void theHeaderIsMagicVersionFirstIndexAndItsCrc() {
        byte[] h = LogSegment.header(0x0102030405060708L);
        assertEquals(24, h.length);
        assertEquals("QDLOGSEG", new String(h, 0, 8, StandardCharsets.US_ASCII));
        ByteBuffer b = ByteBuffer.wrap(h);   // big-endian
        assertEquals(1, b.getInt(8));
        assertEquals(0x0102030405060708L, b.getLong(12));
        assertEquals(crc32c(h, 0, 20), b.getInt(20));
        assertEquals("segment-00000000000000000042.log", LogSegment.fileName(42));
    }

    @Test
    void aRecordIsLengthNotLengthCrcThenIndexTermPayload() {
        byte[] payload = "put k v".getBytes(StandardCharsets.UTF_8);
        LogEntry e = new LogEntry(7, 3, payload);
        ByteBuffer out = ByteBuffer.allocate(LogSegment.recordBytes(e));
        LogSegment.putRecord(out, e);
        assertEquals(out.capacity(), out.position());
        byte[] r = out.array();
        ByteBuffer b = ByteBuffer.wrap(r);
        int length = b.getInt(0);
        assertEquals(16 + payload.length, length);
        assertEquals(~length, b.getInt(4));
        assertEquals(crc32c(r, 12, length), b.getInt(8));
        assertEquals(7, b.getLong(12));
        assertEquals(3, b.getLong(20));
        assertArrayEquals(payload, Arrays.copyOfRange(r, 28, r.length));
    }

    @Test
    void aScanReadsBackWhatWasWrittenWithEachRecordsOffset() throws Exception {
        List<LogEntry> es = List.of(new LogEntry(5, 1, new byte[0]), new LogEntry(6, 2, new byte[] {1, 2, 3}));
        ByteBuffer b = ByteBuffer.allocate(200);
        b.put(LogSegment.header(5));
        for (LogEntry e : es) LogSegment.putRecord(b, e);
        Path f = dir.resolve(LogSegment.fileName(5));
        Files.write(f, Arrays.copyOf(b.array(), b.position()));
        LogSegment.Scan s = LogSegment.scan(f, 5, false);
        assertEquals(es, s.entries());
        assertArrayEquals(new long[] {24, 24 + 28}, s.offsets());
        assertEquals(b.position(), s.validBytes());
        assertEquals(0, s.tornBytes());
        assertEquals(6, s.lastIndex());
        assertEquals(2, s.lastTerm());
    }

    @Test
    void aNewerFormatIsNamedAsSuch() throws Exception {
        byte[] h = LogSegment.header(1);
        ByteBuffer.wrap(h).putInt(8, 2);   // a v2 header whose layout this version cannot check
        Path f = dir.resolve(LogSegment.fileName(1));
        Files.write(f, h);
        LogCorruptException x = assertThrows(LogCorruptException.class, () -> LogSegment.scan(f, 1, true));
        assertEquals(8, x.offset());
        assertTrue(x.problem().contains("format v2, written by a newer quorumd"), x.problem());
    }

    @Test
    void anOversizedPayloadIsRefusedBeforeAnythingIsWritten() {
        LogEntry big = new LogEntry(1, 1, new byte[LogSegment.MAX_PAYLOAD_BYTES + 1]);
        ByteBuffer out = ByteBuffer.allocate(LogSegment.recordBytes(big));
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> LogSegment.putRecord(out, big));
        assertTrue(x.getMessage().contains("limit of " + LogSegment.MAX_PAYLOAD_BYTES), x.getMessage());
        assertEquals(0, out.position());
    }
}
