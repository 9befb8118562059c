package io.quorumd.kv;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.OptionalLong;

/**
 * A {@link KvCommand} as a log entry's payload. The empty payload is the master's no-op
 * ({@link KvCommand.Noop}); otherwise: tag (1 put, 2 delete), flags (bit 0: an expected revision
 * follows, bit 1: a fence term follows), key length and key, for a put the value length and value,
 * then the optional longs. Lengths are checked against what the payload holds, so a malformed
 * payload never allocates more than its own size; the limits on keys and values are the machine's
 * to apply (a refusal is a deterministic result of applying the entry).
 */
public final class KvCommandCodec {
    private static final byte PUT = 1;
    private static final byte DELETE = 2;
    private static final int HAS_REV = 1;
    private static final int HAS_TERM = 2;

    private KvCommandCodec() {}

    public static byte[] encode(KvCommand c) {
        if (c instanceof KvCommand.Noop) return new byte[0];
        byte[] key;
        byte[] value = null;
        OptionalLong rev;
        OptionalLong term;
        byte tag;
        if (c instanceof KvCommand.Put p) {
            tag = PUT;
            key = p.key();
            value = p.value();
            rev = p.expectedRevision();
            term = p.fenceTerm();
        } else if (c instanceof KvCommand.Delete d) {
            tag = DELETE;
            key = d.key();
            rev = d.expectedRevision();
            term = d.fenceTerm();
        } else {
            throw new IllegalArgumentException("cannot encode " + c);
        }
        int size = 2 + 4 + key.length + (value != null ? 4 + value.length : 0) + (rev.isPresent() ? 8 : 0)
                + (term.isPresent() ? 8 : 0);
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(tag).put((byte) ((rev.isPresent() ? HAS_REV : 0) | (term.isPresent() ? HAS_TERM : 0)));
        b.putInt(key.length).put(key);
        if (value != null) b.putInt(value.length).put(value);
        if (rev.isPresent()) b.putLong(rev.getAsLong());
        if (term.isPresent()) b.putLong(term.getAsLong());
        return b.array();
    }

    /** @throws IllegalArgumentException a payload that is not a command (the message says where) */
    public static KvCommand decode(byte[] payload) {
        if (payload.length == 0) return new KvCommand.Noop();
        ByteBuffer b = ByteBuffer.wrap(payload);
        try {
            byte tag = b.get();
            int flags = b.get();
            if ((flags & ~(HAS_REV | HAS_TERM)) != 0) throw new IllegalArgumentException("unknown flags " + flags);
            byte[] key = bytes(b, "key");
            byte[] value = tag == PUT ? bytes(b, "value") : null;
            OptionalLong rev = (flags & HAS_REV) != 0 ? nonNegative(b.getLong(), "expected revision") : OptionalLong.empty();
            OptionalLong term = (flags & HAS_TERM) != 0 ? nonNegative(b.getLong(), "fence term") : OptionalLong.empty();
            if (b.hasRemaining()) throw new IllegalArgumentException(b.remaining() + " bytes after the command");
            if (tag == PUT) return new KvCommand.Put(key, value, rev, term);
            if (tag == DELETE) return new KvCommand.Delete(key, rev, term);
            throw new IllegalArgumentException("unknown command tag " + tag);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a command payload of " + payload.length + " bytes ends early");
        }
    }

    private static byte[] bytes(ByteBuffer b, String what) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining())
            throw new IllegalArgumentException(what + " length " + n + " with " + b.remaining() + " bytes left");
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    private static OptionalLong nonNegative(long v, String what) {
        if (v < 0) throw new IllegalArgumentException(what + " " + v + " is negative");
        return OptionalLong.of(v);
    }
}
