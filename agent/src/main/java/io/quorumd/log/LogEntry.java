package io.quorumd.log;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One entry of the replicated log: its position ({@code index}, from 1), the term of the master that
 * created it, and the command it carries as opaque bytes (the key-value store decodes them).
 *
 * <p>The payload is copied in and out, so an entry is immutable and safe to share between the log,
 * the storage and the transport; {@link #writePayloadTo} avoids the copy on the write path.
 */
public record LogEntry(long index, long term, byte[] payload) {
    public LogEntry {
        if (index < 1) throw new IllegalArgumentException("log index must be >= 1 (got " + index + ")");
        if (term < 1) throw new IllegalArgumentException("log entry " + index + ": term must be >= 1 (got " + term + ")");
        if (payload == null) throw new IllegalArgumentException("log entry " + index + ": payload must not be null");
        payload = payload.clone();
    }

    /** A copy of the payload. */
    @Override
    public byte[] payload() {
        return payload.clone();
    }

    public int payloadSize() {
        return payload.length;
    }

    /** Puts the payload into {@code out} without the copy {@link #payload()} makes. */
    public void writePayloadTo(ByteBuffer out) {
        out.put(payload);
    }

    /** Same index, term and payload bytes. */
    @Override
    public boolean equals(Object o) {
        return o instanceof LogEntry e && e.index == index && e.term == term && Arrays.equals(e.payload, payload);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(index) * 31 * 31 + Long.hashCode(term) * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "LogEntry[index=" + index + ", term=" + term + ", payload=" + payload.length + " bytes]";
    }
}
