package io.quorumd.kv;

import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The replicated store's state machine: committed log entries are applied to it in log order, on
 * every node, and it answers reads from what they left. Pure and deterministic: no I/O, no clock,
 * no randomness, no iteration over hash order; the same entries in the same order leave the same
 * state and give the same results on every node. Not thread-safe: one thread applies and reads.
 *
 * <h2>Applying</h2>
 * {@link #apply(long, long, KvCommand)} takes the entry's log index and term with the command. The
 * checks run in this order, the first that fails decides the result, and nothing but the applied
 * index changes unless the result is {@link KvResult.Written}:
 * <ol>
 *   <li>the key: 1 to {@value KvLimits#MAX_KEY_BYTES} bytes of valid UTF-8 ({@code KEY_EMPTY},
 *       {@code KEY_SIZE}, {@code KEY_UTF8}); a put's value at most
 *       {@value KvLimits#MAX_VALUE_BYTES} bytes ({@code VALUE_SIZE});</li>
 *   <li>the fence: a write carrying a term fails ({@link KvResult.Fenced}) unless that term is the
 *       entry's term;</li>
 *   <li>the compare: a write carrying an expected revision fails ({@link KvResult.CompareFailed})
 *       unless the key's modify revision is that one (0: the key must not exist); a delete of a
 *       missing key is {@link KvResult.NotFound};</li>
 *   <li>the quota ({@code STORE_SIZE}), for a put only.</li>
 * </ol>
 *
 * @see io.quorumd.kv
 */
public final class KvMachine {
    /** The snapshot format this class writes and reads. */
    public static final int SNAPSHOT_VERSION = 1;

    /** UTF-8 byte order: for valid strings (no lone surrogates) the code point order is the byte order. */
    static final Comparator<String> KEY_ORDER = KvMachine::compareCodePoints;

    private final KvLimits limits;
    private final TreeMap<String, Item> items = new TreeMap<>(KEY_ORDER);
    private final ArrayDeque<Change> history = new ArrayDeque<>();
    private long revision;
    private long appliedIndex;
    private long appliedTerm;
    private long sizeBytes;
    private long historyBytes;
    /** Every change with a revision >= this one is in {@link #history}. */
    private long historyStart = 1;

    /** An empty machine: revision 0, nothing applied. */
    public KvMachine(KvLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /** A live key's value and revisions. The value array is never modified once stored. */
    private record Item(byte[] value, long createRevision, long modRevision, int keyBytes) {}

    // ---------------------------------------------------------------- applying

    /**
     * Applies one committed entry.
     *
     * @param index the entry's log index: greater than every index applied before (an entry applied
     *              twice is a bug in the caller, refused with {@link IllegalArgumentException})
     * @param term  the entry's term, the term of the master that appended it; never below the
     *              previous entry's term
     */
    public KvResult apply(long index, long term, KvCommand command) {
        Objects.requireNonNull(command, "command");
        if (index <= appliedIndex) {
            throw new IllegalArgumentException("entry " + index + " applied after entry " + appliedIndex);
        }
        if (term < appliedTerm) {
            throw new IllegalArgumentException("entry " + index + " has term " + term
                    + ", below the term " + appliedTerm + " of the entry applied before it");
        }
        appliedIndex = index;
        appliedTerm = term;
        if (command instanceof KvCommand.Put put) {
            return put(term, put);
        } else if (command instanceof KvCommand.Delete delete) {
            return delete(term, delete);
        } else {
            return new KvResult.Applied();
        }
    }

    private KvResult put(long term, KvCommand.Put put) {
        KeyCheck keyCheck = checkKey(put.key());
        if (keyCheck.refusal != null) {
            return keyCheck.refusal;
        }
        String key = keyCheck.key;
        byte[] value = put.value();
        if (value.length > KvLimits.MAX_VALUE_BYTES) {
            return new KvResult.Refused(KvResult.Limit.VALUE_SIZE, "value is " + value.length
                    + " bytes; the limit is " + KvLimits.MAX_VALUE_BYTES + " (32 KiB)");
        }
        if (put.fenceTerm().isPresent() && put.fenceTerm().getAsLong() != term) {
            return new KvResult.Fenced(put.fenceTerm().getAsLong(), term);
        }
        Item old = items.get(key);
        long current = old == null ? 0 : old.modRevision;
        if (put.expectedRevision().isPresent() && put.expectedRevision().getAsLong() != current) {
            return new KvResult.CompareFailed(key, put.expectedRevision().getAsLong(), current);
        }
        int keyBytes = put.key().length;
        long after = sizeBytes - (old == null ? 0 : (long) old.keyBytes + old.value.length) + keyBytes + value.length;
        if (after > limits.maxBytes() && after > sizeBytes) {
            return new KvResult.Refused(KvResult.Limit.STORE_SIZE, "store would hold " + after
                    + " bytes (keys plus values); the limit is kv.max_bytes = " + limits.maxBytes()
                    + " (" + human(limits.maxBytes()) + "), " + sizeBytes + " bytes in use");
        }
        byte[] stored = value.clone();
        revision++;
        items.put(key, new Item(stored, old == null ? revision : old.createRevision, revision, keyBytes));
        sizeBytes = after;
        record(new Change(revision, key, Change.Type.PUT, stored));
        return new KvResult.Written(revision, old == null);
    }

    private KvResult delete(long term, KvCommand.Delete delete) {
        KeyCheck keyCheck = checkKey(delete.key());
        if (keyCheck.refusal != null) {
            return keyCheck.refusal;
        }
        String key = keyCheck.key;
        if (delete.fenceTerm().isPresent() && delete.fenceTerm().getAsLong() != term) {
            return new KvResult.Fenced(delete.fenceTerm().getAsLong(), term);
        }
        Item old = items.get(key);
        if (old == null) {
            return new KvResult.NotFound(key);
        }
        if (delete.expectedRevision().isPresent() && delete.expectedRevision().getAsLong() != old.modRevision) {
            return new KvResult.CompareFailed(key, delete.expectedRevision().getAsLong(), old.modRevision);
        }
        revision++;
        items.remove(key);
        sizeBytes -= (long) old.keyBytes + old.value.length;
        record(new Change(revision, key, Change.Type.DELETE, null));
        return new KvResult.Written(revision, false);
    }

    private record KeyCheck(String key, KvResult.Refused refusal) {}

    private static KeyCheck checkKey(byte[] key) {
        if (key.length == 0) {
            return new KeyCheck(null, new KvResult.Refused(KvResult.Limit.KEY_EMPTY,
                    "key is empty; keys are 1 to " + KvLimits.MAX_KEY_BYTES + " bytes of UTF-8"));
        }
        if (key.length > KvLimits.MAX_KEY_BYTES) {
            return new KeyCheck(null, new KvResult.Refused(KvResult.Limit.KEY_SIZE,
                    "key is " + key.length + " bytes; the limit is " + KvLimits.MAX_KEY_BYTES));
        }
        try {
            return new KeyCheck(decodeStrict(key), null);
        } catch (MalformedInputException e) {
            return new KeyCheck(null, new KvResult.Refused(KvResult.Limit.KEY_UTF8,
                    "key is not valid UTF-8 (" + e.getInputLength() + " malformed byte(s) at offset "
                            + malformedOffset(key) + ")"));
        } catch (CharacterCodingException e) {
            return new KeyCheck(null, new KvResult.Refused(KvResult.Limit.KEY_UTF8, "key is not valid UTF-8"));
        }
    }

    /** Strict UTF-8: malformed input and encoded surrogates are errors, never replaced. */
    static String decodeStrict(byte[] bytes) throws CharacterCodingException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        return decoder.decode(ByteBuffer.wrap(bytes)).toString();
    }

    private static int malformedOffset(byte[] key) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(key);
        CharBuffer out = CharBuffer.allocate(key.length);
        decoder.decode(in, out, true);
        return in.position();
    }

    private void record(Change change) {
        if (limits.historyChanges() == 0) {
            historyStart = change.revision() + 1;
            return;
        }
        history.addLast(change);
        historyBytes += change.bytes();
        trimHistory();
    }

    private void trimHistory() {
        while (!history.isEmpty()
                && (history.size() > limits.historyChanges() || historyBytes > limits.historyBytes())) {
            Change dropped = history.removeFirst();
            historyBytes -= dropped.bytes();
            historyStart = dropped.revision() + 1;
        }
    }

    // ---------------------------------------------------------------- reads

    /** The key's value and revisions, if it exists. */
    public Optional<KeyValue> get(String key) {
        Item item = items.get(Objects.requireNonNull(key, "key"));
        return item == null ? Optional.empty()
                : Optional.of(new KeyValue(key, item.value, item.createRevision, item.modRevision));
    }

    /** Every live key starting with {@code prefix} (the empty prefix: all), in UTF-8 byte order. */
    public List<KeyValue> list(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        List<KeyValue> out = new ArrayList<>();
        for (Map.Entry<String, Item> e : items.tailMap(prefix, true).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            Item item = e.getValue();
            out.add(new KeyValue(e.getKey(), item.value, item.createRevision, item.modRevision));
        }
        return out;
    }

    /**
     * The committed changes with a revision of {@code fromRevision} or later whose key the selector
     * matches, oldest first; {@link Changes.Compacted} when the history no longer reaches back to
     * {@code fromRevision}. {@code revision() + 1} asks for nothing yet (a watch from now).
     *
     * @param fromRevision at least 1
     */
    public Changes changesSince(long fromRevision, Selector selector) {
        Objects.requireNonNull(selector, "selector");
        if (fromRevision < 1) {
            throw new IllegalArgumentException("fromRevision must be >= 1 (got " + fromRevision + ")");
        }
        if (fromRevision < historyStart) {
            return new Changes.Compacted(fromRevision, historyStart);
        }
        List<Change> out = new ArrayList<>();
        Iterator<Change> it = history.descendingIterator();
        while (it.hasNext()) {
            Change c = it.next();
            if (c.revision() < fromRevision) {
                break;
            }
            if (selector.matches(c.key())) {
                out.add(c);
            }
        }
        Collections.reverse(out);
        return new Changes.Events(out, revision);
    }

    /** The global revision: the number of writes applied so far. */
    public long revision() {
        return revision;
    }

    /** The index of the last entry applied (0: none). */
    public long appliedIndex() {
        return appliedIndex;
    }

    /** The term of the last entry applied (0: none). */
    public long appliedTerm() {
        return appliedTerm;
    }

    /** The store's size as the quota counts it: each live key's UTF-8 bytes plus its value's bytes. */
    public long sizeBytes() {
        return sizeBytes;
    }

    /** The number of live keys. */
    public int keyCount() {
        return items.size();
    }

    /** The oldest revision {@link #changesSince} can still answer from. */
    public long oldestAvailableRevision() {
        return historyStart;
    }

    /** The limits this machine applies with. */
    public KvLimits limits() {
        return limits;
    }

    /**
     * Whether both machines hold the same state: applied index and term, revision, every key with
     * its value and revisions, and the watch history with its start. The limits are not compared.
     */
    public boolean sameState(KvMachine other) {
        if (appliedIndex != other.appliedIndex || appliedTerm != other.appliedTerm || revision != other.revision
                || sizeBytes != other.sizeBytes || historyStart != other.historyStart
                || items.size() != other.items.size() || history.size() != other.history.size()) {
            return false;
        }
        Iterator<Map.Entry<String, Item>> a = items.entrySet().iterator();
        Iterator<Map.Entry<String, Item>> b = other.items.entrySet().iterator();
        while (a.hasNext()) {
            Map.Entry<String, Item> x = a.next();
            Map.Entry<String, Item> y = b.next();
            if (!x.getKey().equals(y.getKey()) || !Arrays.equals(x.getValue().value, y.getValue().value)
                    || x.getValue().createRevision != y.getValue().createRevision
                    || x.getValue().modRevision != y.getValue().modRevision) {
                return false;
            }
        }
        return List.copyOf(history).equals(List.copyOf(other.history));
    }

    @Override
    public String toString() {
        return "KvMachine[index " + appliedIndex + ", term " + appliedTerm + ", revision " + revision + ", "
                + items.size() + " keys, " + sizeBytes + " bytes]";
    }

    // ---------------------------------------------------------------- snapshot

    /**
     * The whole state as MessagePack, format version {@value #SNAPSHOT_VERSION} (the package
     * documentation gives the layout). The same state always gives the same bytes. Integrity (CRC)
     * and durability are the storage layer's.
     */
    public byte[] snapshot() {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packArrayHeader(7);
            p.packInt(SNAPSHOT_VERSION);
            p.packLong(appliedIndex);
            p.packLong(appliedTerm);
            p.packLong(revision);
            p.packLong(historyStart);
            p.packArrayHeader(items.size());
            for (Map.Entry<String, Item> e : items.entrySet()) {
                Item item = e.getValue();
                p.packArrayHeader(4);
                p.packString(e.getKey());
                p.packBinaryHeader(item.value.length);
                p.writePayload(item.value);
                p.packLong(item.createRevision);
                p.packLong(item.modRevision);
            }
            p.packArrayHeader(history.size());
            for (Change c : history) {
                p.packArrayHeader(4);
                p.packLong(c.revision());
                p.packInt(c.type() == Change.Type.PUT ? 0 : 1);
                p.packString(c.key());
                byte[] value = c.value();
                if (value == null) {
                    p.packNil();
                } else {
                    p.packBinaryHeader(value.length);
                    p.writePayload(value);
                }
            }
            return p.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("packing into memory failed", e);
        }
    }

    /**
     * A machine holding the state {@code snapshot} holds, applying with {@code limits} from then on.
     * A history longer than {@code limits} allow is trimmed from its oldest end. A store above
     * {@code limits.maxBytes()} is restored as it is: puts that would grow it are refused.
     *
     * @throws KvSnapshotException naming what is wrong: another version, malformed MessagePack,
     *                             trailing bytes, or a state no machine can reach (keys out of
     *                             order or invalid, revisions inconsistent)
     */
    public static KvMachine restore(byte[] snapshot, KvLimits limits) throws KvSnapshotException {
        Objects.requireNonNull(snapshot, "snapshot");
        KvMachine m = new KvMachine(limits);
        try (MessageUnpacker u = MessagePack.newDefaultUnpacker(snapshot)) {
            int fields = u.unpackArrayHeader();
            if (fields < 1) {
                throw new KvSnapshotException("snapshot: empty top-level array");
            }
            int version = u.unpackInt();
            if (version != SNAPSHOT_VERSION) {
                throw new KvSnapshotException("snapshot: version " + version + ", this build reads version "
                        + SNAPSHOT_VERSION);
            }
            if (fields != 7) {
                throw new KvSnapshotException("snapshot: " + fields + " fields, version 1 has 7");
            }
            m.appliedIndex = nonNegative(u.unpackLong(), "applied index");
            m.appliedTerm = nonNegative(u.unpackLong(), "applied term");
            m.revision = nonNegative(u.unpackLong(), "revision");
            m.historyStart = u.unpackLong();
            if (m.historyStart < 1 || m.historyStart > m.revision + 1) {
                throw new KvSnapshotException("snapshot: history start " + m.historyStart
                        + " outside 1.." + (m.revision + 1));
            }
            int keys = u.unpackArrayHeader();
            String previous = null;
            for (int i = 0; i < keys; i++) {
                expectArray(u, 4, "key entry " + i);
                byte[] keyBytes = readString(u, "key entry " + i);
                String key = validKey(keyBytes, "key entry " + i);
                if (previous != null && KEY_ORDER.compare(previous, key) >= 0) {
                    throw new KvSnapshotException("snapshot: key entry " + i + " " + quote(key)
                            + " is not after " + quote(previous));
                }
                previous = key;
                byte[] value = u.readPayload(u.unpackBinaryHeader());
                if (value.length > KvLimits.MAX_VALUE_BYTES) {
                    throw new KvSnapshotException("snapshot: key " + quote(key) + " has a " + value.length
                            + "-byte value, over the limit " + KvLimits.MAX_VALUE_BYTES);
                }
                long create = u.unpackLong();
                long mod = u.unpackLong();
                if (create < 1 || create > mod || mod > m.revision) {
                    throw new KvSnapshotException("snapshot: key " + quote(key) + " has create revision "
                            + create + " and modify revision " + mod + " (revision " + m.revision + ")");
                }
                m.items.put(key, new Item(value, create, mod, keyBytes.length));
                m.sizeBytes += keyBytes.length + (long) value.length;
            }
            int changes = u.unpackArrayHeader();
            long last = m.historyStart - 1;
            for (int i = 0; i < changes; i++) {
                expectArray(u, 4, "change " + i);
                long rev = u.unpackLong();
                if (rev <= last || rev > m.revision) {
                    throw new KvSnapshotException("snapshot: change " + i + " has revision " + rev
                            + ", expected " + (last + 1) + ".." + m.revision + " in increasing order");
                }
                last = rev;
                int type = u.unpackInt();
                String key = validKey(readString(u, "change " + i), "change " + i);
                Change change;
                if (type == 0) {
                    change = new Change(rev, key, Change.Type.PUT, u.readPayload(u.unpackBinaryHeader()));
                } else if (type == 1) {
                    u.unpackNil();
                    change = new Change(rev, key, Change.Type.DELETE, null);
                } else {
                    throw new KvSnapshotException("snapshot: change " + i + " has type " + type
                            + " (0 put, 1 delete)");
                }
                m.history.addLast(change);
                m.historyBytes += change.bytes();
            }
            if (u.hasNext()) {
                throw new KvSnapshotException("snapshot: trailing bytes after the state");
            }
        } catch (IOException | MessagePackException e) {
            throw new KvSnapshotException("snapshot: malformed MessagePack: " + e.getMessage(), e);
        }
        m.trimHistory();
        return m;
    }

    private static long nonNegative(long value, String what) throws KvSnapshotException {
        if (value < 0) {
            throw new KvSnapshotException("snapshot: " + what + " is " + value);
        }
        return value;
    }

    private static void expectArray(MessageUnpacker u, int size, String what)
            throws IOException, KvSnapshotException {
        int n = u.unpackArrayHeader();
        if (n != size) {
            throw new KvSnapshotException("snapshot: " + what + " has " + n + " fields, expected " + size);
        }
    }

    private static byte[] readString(MessageUnpacker u, String what) throws IOException {
        return u.readPayload(u.unpackRawStringHeader());
    }

    private static String validKey(byte[] bytes, String what) throws KvSnapshotException {
        KeyCheck check = checkKey(bytes);
        if (check.refusal != null) {
            throw new KvSnapshotException("snapshot: " + what + ": " + check.refusal.message());
        }
        return check.key;
    }

    // ---------------------------------------------------------------- helpers

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    static long utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    static String quote(String key) {
        return key.length() <= 64 ? "\"" + key + "\"" : "\"" + key.substring(0, 61) + "...\"";
    }

    private static String human(long bytes) {
        if (bytes >= 1024L * 1024 && bytes % (1024L * 1024) == 0) {
            return bytes / (1024L * 1024) + " MiB";
        }
        if (bytes >= 1024 && bytes % 1024 == 0) {
            return bytes / 1024 + " KiB";
        }
        return bytes + " bytes";
    }
}
