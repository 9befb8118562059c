package io.quorumd.kv;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Revisions, compare-and-set, fencing, limits, reads and watches of {@link KvMachine}. */
class KvMachineTest {
    private final KvMachine m = new KvMachine(KvLimits.defaults());
    private long index;

    private KvResult apply(long term, KvCommand c) {
        return m.apply(++index, term, c);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static KvCommand.Put put(String key, String value, Long rev, Long term) {
        return new KvCommand.Put(b(key), b(value), opt(rev), opt(term));
    }

    static KvCommand.Delete delete(String key, Long rev, Long term) {
        return new KvCommand.Delete(b(key), opt(rev), opt(term));
    }

    private static OptionalLong opt(Long v) {
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    private String value(String key) {
        return new String(m.get(key).orElseThrow().value(), StandardCharsets.UTF_8);
    }

    @Test
    void everyWriteAddsOneToTheGlobalRevisionAndKeysKeepCreateAndModifyRevisions() {
        assertEquals(new KvResult.Written(1, true), apply(1, KvCommand.put("a", "1")));
        assertEquals(new KvResult.Written(2, true), apply(1, KvCommand.put("b", "1")));
        assertEquals(new KvResult.Written(3, false), apply(1, KvCommand.put("a", "2")));
        assertEquals(3, m.revision());
        KeyValue a = m.get("a").orElseThrow();
        assertEquals(1, a.createRevision());
        assertEquals(3, a.modRevision());
        assertEquals("2", value("a"));

        assertEquals(new KvResult.Written(4, false), apply(1, KvCommand.delete("a")));
        assertTrue(m.get("a").isEmpty());
        assertEquals(new KvResult.Written(5, true), apply(1, KvCommand.put("a", "3")));
        assertEquals(5, m.get("a").orElseThrow().createRevision(), "recreated: a new create revision");
        assertEquals(5, m.appliedIndex());
    }

    @Test
    void aDeleteOfAMissingKeyIsNotFoundAndChangesNothing() {
        apply(1, KvCommand.put("a", "1"));
        assertEquals(new KvResult.NotFound("x"), apply(1, KvCommand.delete("x")));
        assertEquals(new KvResult.NotFound("x"), apply(1, delete("x", 0L, null)));
        assertEquals(1, m.revision());
        assertEquals(3, m.appliedIndex(), "the entries were applied, as no-ops for the store");
    }

    @Test
    void revComparesTheModifyRevisionAndZeroMeansCreateOnly() {
        assertEquals(new KvResult.Written(1, true), apply(1, put("k", "v1", 0L, null)));
        assertEquals(new KvResult.CompareFailed("k", 0, 1), apply(1, put("k", "v2", 0L, null)));
        assertEquals(new KvResult.CompareFailed("k", 7, 1), apply(1, put("k", "v2", 7L, null)));
        assertEquals(new KvResult.CompareFailed("nope", 1, 0), apply(1, put("nope", "v", 1L, null)));
        assertEquals(1, m.revision(), "failed compares do not bump the revision");
        assertEquals("v1", value("k"));

        apply(1, KvCommand.put("other", "x")); // revision 2: the global revision moves, k's does not
        assertEquals(new KvResult.Written(3, false), apply(1, put("k", "v2", 1L, null)));
        assertEquals(new KvResult.CompareFailed("k", 1, 3), apply(1, delete("k", 1L, null)));
        assertEquals(new KvResult.Written(4, false), apply(1, delete("k", 3L, null)));
        assertTrue(m.get("k").isEmpty());
    }

    @Test
    void aWriteCarryingATermSucceedsOnlyInAnEntryOfThatTerm() {
        assertEquals(new KvResult.Written(1, true), apply(3, put("lock", "a", null, 3L)));
        // The term-3 master was deposed; its command's late request is forwarded to the term-4 master,
        // which appends it in term 4: fenced on every node that applies the entry.
        assertEquals(new KvResult.Fenced(3, 4), apply(4, put("lock", "stale", null, 3L)));
        assertEquals(new KvResult.Fenced(3, 4), apply(4, delete("lock", null, 3L)));
        assertEquals(new KvResult.Fenced(5, 4), apply(4, put("lock", "future", null, 5L)));
        assertEquals(1, m.revision(), "fenced writes do not bump the revision");
        assertEquals("a", value("lock"));
        assertEquals(new KvResult.Written(2, false), apply(4, put("lock", "b", 1L, 4L)));
        assertEquals(new KvResult.Written(3, false), apply(4, delete("lock", null, 4L)));
    }

    @Test
    void theFenceIsDecidedByTheEntryAloneSoEveryNodeAgrees() {
        // Two nodes apply the same entries; one of them learnt of term 5 before applying (it plays
        // no part): both fence the same writes.
        KvMachine n1 = new KvMachine(KvLimits.defaults());
        KvMachine n2 = new KvMachine(KvLimits.defaults());
        List<KvCommand> cmds = List.of(put("k", "1", null, 3L), put("k", "2", null, 3L), put("k", "3", null, 4L));
        long[] terms = {3, 4, 4};
        for (int i = 0; i < cmds.size(); i++) {
            assertEquals(n1.apply(i + 1, terms[i], cmds.get(i)), n2.apply(i + 1, terms[i], cmds.get(i)));
        }
        assertTrue(n1.sameState(n2));
        assertEquals(2, n1.revision());
    }

    @Test
    void fenceIsCheckedBeforeTheCompare() {
        apply(2, KvCommand.put("k", "1"));
        assertEquals(new KvResult.Fenced(1, 2), apply(2, put("k", "2", 99L, 1L)));
    }

    @Test
    void keysAreOneTo512BytesOfValidUtf8() {
        KvResult empty = apply(1, new KvCommand.Put(new byte[0], b("v"), OptionalLong.empty(), OptionalLong.empty()));
        assertEquals(KvResult.Limit.KEY_EMPTY, ((KvResult.Refused) empty).limit());

        String k512 = "k".repeat(512);
        assertInstanceOf(KvResult.Written.class, apply(1, KvCommand.put(k512, "v")));
        KvResult.Refused tooLong = (KvResult.Refused) apply(1, KvCommand.put("k".repeat(513), "v"));
        assertEquals(KvResult.Limit.KEY_SIZE, tooLong.limit());
        assertEquals("key is 513 bytes; the limit is 512", tooLong.message());
        // 171 three-byte characters: 513 bytes though only 171 chars
        KvResult.Refused wide = (KvResult.Refused) apply(1, KvCommand.put("€".repeat(171), "v"));
        assertEquals(KvResult.Limit.KEY_SIZE, wide.limit());

        byte[][] invalid = {
            {(byte) 0xC3, 0x28},                              // a lead byte without its continuation
            {'a', (byte) 0x80},                               // a lone continuation byte
            {(byte) 0xC0, (byte) 0xAF},                       // overlong '/'
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80},          // an encoded surrogate
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
            {'o', 'k', (byte) 0xE2, (byte) 0x82},             // truncated
        };
        for (byte[] key : invalid) {
            KvResult r = apply(1, new KvCommand.Put(key, b("v"), OptionalLong.empty(), OptionalLong.empty()));
            KvResult.Refused refused = assertInstanceOf(KvResult.Refused.class, r, Arrays.toString(key));
            assertEquals(KvResult.Limit.KEY_UTF8, refused.limit());
            assertTrue(refused.message().startsWith("key is not valid UTF-8"), refused.message());
            assertEquals(KvResult.Limit.KEY_UTF8, ((KvResult.Refused) apply(1,
                    new KvCommand.Delete(key, OptionalLong.empty(), OptionalLong.empty()))).limit());
        }
        assertTrue(((KvResult.Refused) apply(1, new KvCommand.Put(new byte[] {'a', 'b', (byte) 0xFF},
                b("v"), OptionalLong.empty(), OptionalLong.empty()))).message().contains("at offset 2"));
        assertEquals(1, m.revision(), "refusals do not bump the revision");
        assertInstanceOf(KvResult.Written.class, apply(1, KvCommand.put("κλειδί/🔑", "v")));
    }

    @Test
    void valuesAreAtMost32KiB() {
        assertInstanceOf(KvResult.Written.class, apply(1, KvCommand.put("k", new byte[32768])));
        assertEquals("value is 32769 bytes; the limit is 32768 (32 KiB)",
                ((KvResult.Refused) apply(1, KvCommand.put("k", new byte[32769]))).message());
        KvResult.Refused r = (KvResult.Refused) apply(1, KvCommand.put("k", new byte[40000]));
        assertEquals(KvResult.Limit.VALUE_SIZE, r.limit());
        assertEquals("value is 40000 bytes; the limit is 32768 (32 KiB)", r.message());
        assertEquals(1, m.revision());
        assertEquals(32768, m.get("k").orElseThrow().value().length);
    }

    @Test
    void theStoreIsBoundedByKeyPlusValueBytes() {
        KvMachine small = new KvMachine(new KvLimits(100, 10, 1000));
        assertInstanceOf(KvResult.Written.class, small.apply(1, 1, KvCommand.put("a", new byte[49]))); // 50
        assertInstanceOf(KvResult.Written.class, small.apply(2, 1, KvCommand.put("b", new byte[49]))); // 100
        assertEquals(100, small.sizeBytes());
        KvResult.Refused full = (KvResult.Refused) small.apply(3, 1, KvCommand.put("c", new byte[0]));
        assertEquals(KvResult.Limit.STORE_SIZE, full.limit());
        assertEquals("store would hold 101 bytes (keys plus values); the limit is kv.max_bytes = 100 "
                + "(100 bytes), 100 bytes in use", full.message());
        assertEquals(2, small.revision());
        // overwriting with as many bytes, or fewer, fits; a delete frees the key's bytes
        assertInstanceOf(KvResult.Written.class, small.apply(4, 1, KvCommand.put("a", new byte[49])));
        assertInstanceOf(KvResult.Written.class, small.apply(5, 1, KvCommand.put("a", new byte[9])));
        assertEquals(60, small.sizeBytes());
        assertInstanceOf(KvResult.Written.class, small.apply(6, 1, KvCommand.delete("b")));
        assertEquals(10, small.sizeBytes());
        assertInstanceOf(KvResult.Written.class, small.apply(7, 1, KvCommand.put("c", new byte[89])));
        assertEquals(100, small.sizeBytes());
    }

    @Test
    void readsAreSortedInUtf8ByteOrderAndFilteredByPrefix() {
        for (String k : List.of("b/2", "a", "b/1", "b", "c", "b/\uFFFD", "b/😀", "ba")) {
            apply(1, KvCommand.put(k, k));
        }
        List<String> all = m.list("").stream().map(KeyValue::key).toList();
        // U+1F600 (F0 9F 98 80) sorts after U+FFFD (EF BF BD) in UTF-8, although not in UTF-16
        assertEquals(List.of("a", "b", "b/1", "b/2", "b/\uFFFD", "b/😀", "ba", "c"), all);
        assertEquals(List.of("b/1", "b/2", "b/\uFFFD", "b/😀"), m.list("b/").stream().map(KeyValue::key).toList());
        assertEquals(List.of(), m.list("d"));
        assertTrue(m.get("zz").isEmpty());
        KeyValue b1 = m.get("b/1").orElseThrow();
        byte[] v = b1.value();
        v[0] = 'X';
        assertArrayEquals(b("b/1"), m.get("b/1").orElseThrow().value(), "reads hand out copies");
    }

    @Test
    void commandsCompareByContent() {
        assertEquals(KvCommand.put("a", "b"), KvCommand.put("a", "b"));
        assertEquals(KvCommand.put("a", "b").hashCode(), KvCommand.put("a", "b").hashCode());
        assertEquals(put("a", "b", 3L, 4L), put("a", "b", 3L, 4L));
        assertFalse(put("a", "b", 3L, 4L).equals(put("a", "b", 3L, 5L)));
        assertFalse(KvCommand.put("a", "b").equals(KvCommand.put("a", "c")));
        assertEquals(delete("a", 1L, null), delete("a", 1L, null));
        assertFalse(delete("a", 1L, null).equals(delete("a", null, null)));
        assertEquals("Put[a, 1 bytes, rev 3, term 4]", put("a", "b", 3L, 4L).toString());
        assertThrows(IllegalArgumentException.class, () -> put("a", "b", -1L, null));
    }

    @Test
    void storedValuesAreCopiesOfTheCommandsBytes() {
        byte[] value = b("one");
        apply(1, KvCommand.put("k", value));
        value[0] = 'X';
        assertEquals("one", value("k"));
    }

    @Test
    void entriesApplyInIncreasingIndexAndNonDecreasingTerm() {
        m.apply(5, 2, KvCommand.put("a", "1"));
        assertThrows(IllegalArgumentException.class, () -> m.apply(5, 2, KvCommand.put("a", "2")));
        assertThrows(IllegalArgumentException.class, () -> m.apply(6, 1, KvCommand.put("a", "2")));
        assertEquals(new KvResult.Applied(), m.apply(9, 3, new KvCommand.Noop()));
        assertEquals(9, m.appliedIndex());
        assertEquals(3, m.appliedTerm());
        assertEquals(1, m.revision());
    }

    @Test
    void changesSinceAnswersFromTheHistoryInclusiveOfTheAskedRevision() {
        apply(1, KvCommand.put("app/a", "1"));   // 1
        apply(1, KvCommand.put("other", "x"));   // 2
        apply(1, KvCommand.put("app/b", "1"));   // 3
        apply(1, KvCommand.delete("app/a"));     // 4
        apply(1, put("app/b", "2", 0L, null));   // compare fails: no change
        apply(1, KvCommand.put("app/a", "2"));   // 5

        Changes.Events prefix = (Changes.Events) m.changesSince(1, Selector.prefix("app/"));
        assertEquals(List.of(1L, 3L, 4L, 5L), prefix.changes().stream().map(Change::revision).toList());
        assertEquals(Change.Type.DELETE, prefix.changes().get(2).type());
        assertEquals(null, prefix.changes().get(2).value());
        assertArrayEquals(b("2"), prefix.changes().get(3).value());
        assertEquals(5, prefix.revision());

        Changes.Events key = (Changes.Events) m.changesSince(4, Selector.key("app/a"));
        assertEquals(List.of(new Change(4, "app/a", Change.Type.DELETE, null),
                new Change(5, "app/a", Change.Type.PUT, b("2"))), key.changes());
        assertEquals(List.of(), ((Changes.Events) m.changesSince(6, Selector.prefix(""))).changes());
        assertEquals(5, ((Changes.Events) m.changesSince(1, Selector.prefix(""))).changes().size());
        assertThrows(IllegalArgumentException.class, () -> m.changesSince(0, Selector.prefix("")));
    }

    @Test
    void aRevisionOlderThanTheHistoryIsCompacted() {
        KvMachine small = new KvMachine(new KvLimits(1 << 20, 3, 1 << 20));
        for (int i = 1; i <= 5; i++) {
            small.apply(i, 1, KvCommand.put("k" + i, "v"));
        }
        assertEquals(3, small.oldestAvailableRevision());
        assertEquals(new Changes.Compacted(2, 3), small.changesSince(2, Selector.prefix("")));
        assertEquals(List.of(3L, 4L, 5L), ((Changes.Events) small.changesSince(3, Selector.prefix("")))
                .changes().stream().map(Change::revision).toList());

        // bounded by bytes: each change costs key + value bytes
        KvMachine bytes = new KvMachine(new KvLimits(1 << 20, 100, 25));
        bytes.apply(1, 1, KvCommand.put("a", new byte[9]));   // 10
        bytes.apply(2, 1, KvCommand.put("b", new byte[9]));   // 20
        bytes.apply(3, 1, KvCommand.delete("a"));             // 21
        assertEquals(1, bytes.oldestAvailableRevision());
        bytes.apply(4, 1, KvCommand.put("c", new byte[9]));   // 31: the oldest goes
        assertEquals(2, bytes.oldestAvailableRevision());
        assertInstanceOf(Changes.Compacted.class, bytes.changesSince(1, Selector.key("b")));

        KvMachine none = new KvMachine(new KvLimits(1 << 20, 0, 0));
        none.apply(1, 1, KvCommand.put("a", "1"));
        assertEquals(new Changes.Compacted(1, 2), none.changesSince(1, Selector.prefix("")));
        assertEquals(List.of(), ((Changes.Events) none.changesSince(2, Selector.prefix(""))).changes());
    }

    @Test
    void refusalsLeaveTheHistoryAlone() {
        apply(1, KvCommand.put("k", "1"));
        apply(1, KvCommand.put("k", new byte[40000]));
        apply(2, put("k", "x", null, 1L));
        apply(2, KvCommand.delete("missing"));
        assertEquals(1, ((Changes.Events) m.changesSince(1, Selector.prefix(""))).changes().size());
        assertFalse(m.list("").isEmpty());
    }
}
