package io.quorumd.storage;

import io.quorumd.log.LogEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The byte layout of one log segment file (documented in {@code package-info.java}) and the scan
 * that reads one back, telling a torn tail (the partial last record of an interrupted write, which
 * only the last segment may have) from corruption (everything else, which throws).
 */
final class LogSegment {
    static final byte[] MAGIC = "QDLOGSEG".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    /** magic, version, first index, header CRC-32C. */
    static final int HEADER_BYTES = 8 + 4 + 8 + 4;
    /** length, ~length, CRC-32C of the body. */
    static final int RECORD_HEADER_BYTES = 4 + 4 + 4;
    /** index and term, then the payload. */
    static final int BODY_FIXED_BYTES = 8 + 8;
    static final int MAX_PAYLOAD_BYTES = 16 << 20;

    private LogSegment() {
    }

    /** What a segment holds, kept in memory so that appends and compaction need not read it. */
    static final class Segment {
        final long firstIndex;
        final Path path;
        long lastIndex;
        long lastTerm;
        long bytes;

        Segment(long firstIndex, Path path, long lastIndex, long lastTerm, long bytes) {
            this.firstIndex = firstIndex;
            this.path = path;
            this.lastIndex = lastIndex;
            this.lastTerm = lastTerm;
            this.bytes = bytes;
        }

        boolean isEmpty() {
            return lastIndex < firstIndex;
        }
    }

    static String fileName(long firstIndex) {
        return String.format("segment-%020d.log", firstIndex);
    }

    static byte[] header(long firstIndex) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        b.put(MAGIC).putInt(VERSION).putLong(firstIndex);
        b.putInt(crc(b.array(), 0, HEADER_BYTES - 4));
        return b.array();
    }

    static int recordBytes(LogEntry e) {
        return RECORD_HEADER_BYTES + BODY_FIXED_BYTES + e.payloadSize();
    }

    static void putRecord(ByteBuffer out, LogEntry e) {
        if (e.payloadSize() > MAX_PAYLOAD_BYTES)
            throw new IllegalArgumentException("log entry " + e.index() + " has " + e.payloadSize()
                    + " bytes of payload, more than the limit of " + MAX_PAYLOAD_BYTES);
        int length = BODY_FIXED_BYTES + e.payloadSize();
        int start = out.position();
        out.putInt(length).putInt(~length).putInt(0);
        out.putLong(e.index()).putLong(e.term());
        e.writePayloadTo(out);
        CRC32C c = new CRC32C();
        c.update(out.duplicate().position(start + RECORD_HEADER_BYTES).limit(out.position()));
        out.putInt(start + 8, (int) c.getValue());
    }

    /**
     * What a scan found: the entries, the byte offset of each record, where the valid part ends,
     * and, for a torn tail, how many bytes past that end belong to the interrupted write.
     * {@code headerTorn} means even the header is incomplete (a crash while creating the segment).
     */
    record Scan(long firstIndex, List<LogEntry> entries, long[] offsets, long validBytes, long tornBytes,
                boolean headerTorn) {
        long lastIndex() {
            return firstIndex + entries.size() - 1;
        }

        long lastTerm() {
            return entries.isEmpty() ? 0 : entries.get(entries.size() - 1).term();
        }
    }

    /**
     * Reads segment {@code file}, whose name says it starts at {@code nameFirstIndex}. Only when
     * {@code last} may the file end inside a record (or inside its header): that is a torn tail,
     * reported in the result for the caller to truncate; anything else wrong throws.
     */
    static Scan scan(Path file, long nameFirstIndex, boolean last) throws LogCorruptException, IOException {
        byte[] all = Files.readAllBytes(file);
        int len = all.length;
        if (len < HEADER_BYTES) {
            if (!last) throw new LogCorruptException(file, 0, "its header is incomplete (" + len + " of " + HEADER_BYTES
                    + " bytes) and it is not the last segment");
            if (len >= MAGIC.length && !Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length))
                throw new LogCorruptException(file, 0, "it does not start with " + new String(MAGIC, StandardCharsets.US_ASCII));
            return new Scan(nameFirstIndex, List.of(), new long[0], 0, len, true);
        }
        ByteBuffer b = ByteBuffer.wrap(all);
        if (!Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length))
            throw new LogCorruptException(file, 0, "it does not start with " + new String(MAGIC, StandardCharsets.US_ASCII)
                    + ", so it is not a quorumd log segment");
        int version = b.getInt(8);
        int storedHeaderCrc = b.getInt(HEADER_BYTES - 4);
        int headerCrc = crc(all, 0, HEADER_BYTES - 4);
        if (storedHeaderCrc != headerCrc) {
            // a later format may lay its header out differently: say so rather than only "damaged"
            if (version > VERSION && version < 256)
                throw new LogCorruptException(file, 8, "it has format v" + version + ", written by a newer quorumd (this one "
                        + "reads only v" + VERSION + "), or its header is damaged (header crc32c " + hex(storedHeaderCrc)
                        + " does not match the v" + VERSION + " layout)");
            throw new LogCorruptException(file, HEADER_BYTES - 4, "its header checksum does not match (stored crc32c "
                    + hex(storedHeaderCrc) + ", computed " + hex(headerCrc) + ")");
        }
        if (version != VERSION)
            throw new LogCorruptException(file, 8, "it has format v" + Integer.toUnsignedString(version)
                    + "; this quorumd reads only v" + VERSION + (version > VERSION ? " (run the newer quorumd that wrote it)" : ""));
        long firstIndex = b.getLong(12);
        if (firstIndex != nameFirstIndex)
            throw new LogCorruptException(file, 12, "its header says it starts at index " + firstIndex
                    + ", its name says " + nameFirstIndex);

        List<LogEntry> entries = new ArrayList<>();
        long[] offsets = new long[16];
        int pos = HEADER_BYTES;
        long expect = firstIndex;
        long prevTerm = 0;
        while (pos < len) {
            int remaining = len - pos;
            if (remaining < RECORD_HEADER_BYTES)
                return torn(file, last, firstIndex, entries, offsets, pos, remaining, "a record header");
            int length = b.getInt(pos);
            int check = b.getInt(pos + 4);
            if (check != ~length)
                throw new LogCorruptException(file, pos, "the record's length field is damaged (length " + hex(length)
                        + ", check " + hex(check) + ")");
            if (length < BODY_FIXED_BYTES || length > BODY_FIXED_BYTES + MAX_PAYLOAD_BYTES)
                throw new LogCorruptException(file, pos, "the record's length " + Integer.toUnsignedString(length)
                        + " is outside [" + BODY_FIXED_BYTES + ", " + (BODY_FIXED_BYTES + MAX_PAYLOAD_BYTES) + "]");
            if (remaining - RECORD_HEADER_BYTES < length)
                return torn(file, last, firstIndex, entries, offsets, pos, remaining, "a record of " + length + " bytes");
            int stored = b.getInt(pos + 8);
            int computed = crc(all, pos + RECORD_HEADER_BYTES, length);
            if (stored != computed)
                throw new LogCorruptException(file, pos, "the record's checksum does not match (stored crc32c "
                        + hex(stored) + ", computed " + hex(computed) + ")");
            long index = b.getLong(pos + RECORD_HEADER_BYTES);
            long term = b.getLong(pos + RECORD_HEADER_BYTES + 8);
            if (index != expect)
                throw new LogCorruptException(file, pos, "the record holds index " + index + " where " + expect + " was due");
            if (term < 1 || term < prevTerm)
                throw new LogCorruptException(file, pos, "the record of index " + index + " has term " + term
                        + (term < 1 ? "" : ", below the term " + prevTerm + " before it (terms never go backwards)"));
            int payloadAt = pos + RECORD_HEADER_BYTES + BODY_FIXED_BYTES;
            entries.add(new LogEntry(index, term, Arrays.copyOfRange(all, payloadAt, pos + RECORD_HEADER_BYTES + length)));
            if (entries.size() > offsets.length) offsets = Arrays.copyOf(offsets, offsets.length * 2);
            offsets[entries.size() - 1] = pos;
            pos += RECORD_HEADER_BYTES + length;
            expect++;
            prevTerm = term;
        }
        return new Scan(firstIndex, entries, Arrays.copyOf(offsets, entries.size()), pos, 0, false);
    }

    private static Scan torn(Path file, boolean last, long firstIndex, List<LogEntry> entries, long[] offsets, int pos,
                             int remaining, String what) throws LogCorruptException {
        if (!last)
            throw new LogCorruptException(file, pos, "the file ends inside " + what + " (" + remaining
                    + " bytes left) and it is not the last segment");
        return new Scan(firstIndex, entries, Arrays.copyOf(offsets, entries.size()), pos, remaining, false);
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    private static String hex(int v) {
        return String.format("%08x", v);
    }
}
