package io.quorumd.control;

import io.quorumd.kv.KvCommand;
import io.quorumd.kv.KvCommandCodec;
import io.quorumd.kv.Selector;

import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;

/**
 * One request of the replicated store, as the control socket's {@code kv.*} ops carry it (see
 * {@link KvOps#parse}). Writes ({@link Put}, {@link Delete}) become a log entry's command; reads are
 * served from the applied state, linearizably through the master unless {@code stale}.
 */
public sealed interface KvRequest {
    /** Whether it changes the store (and needs the rights of the control socket's state-changing ops). */
    default boolean write() {
        return this instanceof Put || this instanceof Delete || this instanceof Raw;
    }

    /** A write as a command's payload already (a forwarded one, on the master). */
    record Raw(byte[] command) implements KvRequest {
        public Raw {
            command = command.clone();
        }

        @Override
        public byte[] command() {
            return command.clone();
        }
    }

    record Get(String key, boolean stale) implements KvRequest {}

    record List(String prefix, boolean stale) implements KvRequest {}

    /** {@code rev}: compare the key's modify revision (0: create only); {@code term}: the fence; -1: none. */
    record Put(String key, byte[] value, long rev, long term) implements KvRequest {
        public Put {
            value = value.clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }
    }

    record Delete(String key, long rev, long term) implements KvRequest {}

    /** {@code from}: the first revision to report, or 0 for the changes from now on. */
    record Watch(Selector selector, long from) implements KvRequest {}

    /** The log entry's payload of a write. */
    public static byte[] command(KvRequest r) {
        if (r instanceof Raw raw) return raw.command();
        if (r instanceof Put p) {
            return KvCommandCodec.encode(new KvCommand.Put(p.key().getBytes(StandardCharsets.UTF_8), p.value(),
                    opt(p.rev()), opt(p.term())));
        }
        if (r instanceof Delete d) {
            return KvCommandCodec.encode(new KvCommand.Delete(d.key().getBytes(StandardCharsets.UTF_8), opt(d.rev()),
                    opt(d.term())));
        }
        throw new IllegalArgumentException("not a write: " + r);
    }

    private static OptionalLong opt(long v) {
        return v < 0 ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /**
     * A request as a {@code Forward}'s payload: a write's command, or for a read {@code 'g'} or
     * {@code 'l'} and the key or prefix in UTF-8.
     */
    public static byte[] forwardPayload(KvRequest r) {
        if (r.write()) return command(r);
        String text;
        byte tag;
        if (r instanceof Get g) {
            tag = 'g';
            text = g.key();
        } else if (r instanceof List l) {
            tag = 'l';
            text = l.prefix();
        } else {
            throw new IllegalArgumentException("cannot forward " + r);
        }
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1];
        out[0] = tag;
        System.arraycopy(t, 0, out, 1, t.length);
        return out;
    }

    /**
     * The linearizable read a {@code Forward}'s payload names.
     *
     * @throws IllegalArgumentException not a read's payload
     */
    public static KvRequest readOf(byte[] payload) {
        if (payload.length == 0) throw new IllegalArgumentException("an empty read");
        String text = KvOps.utf8(java.util.Arrays.copyOfRange(payload, 1, payload.length));
        if (text == null) throw new IllegalArgumentException("a read whose key is not UTF-8");
        if (payload[0] == 'g') return new Get(text, false);
        if (payload[0] == 'l') return new List(text, false);
        throw new IllegalArgumentException("unknown read " + payload[0]);
    }
}
