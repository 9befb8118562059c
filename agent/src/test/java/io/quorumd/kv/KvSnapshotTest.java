package io.quorumd.kv;

import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link KvMachine#snapshot()} and {@link KvMachine#restore}: an identical machine, or a clear refusal. */
class KvSnapshotTest {

    private static KvMachine populated(long seed, int entries) {
        KvMachine m = new KvMachine(KvLimits.defaults());
        Random r = new Random(seed);
        for (int i = 1; i <= entries; i++) {
            m.apply(i, 1 + i / 50, KvDeterminismTest.randomCommand(r, 1 + i / 50));
        }
        return m;
    }

    @Test
    void aRestoredMachineHasTheSameContentsRevisionHistoryAndBehaviour() throws Exception {
        KvMachine original = populated(7, 400);
        byte[] snapshot = original.snapshot();
        KvMachine restored = KvMachine.restore(snapshot, KvLimits.defaults());

        assertTrue(restored.sameState(original));
        assertEquals(original.revision(), restored.revision());
        assertEquals(original.appliedIndex(), restored.appliedIndex());
        assertEquals(original.appliedTerm(), restored.appliedTerm());
        assertEquals(original.sizeBytes(), restored.sizeBytes());
        assertEquals(original.list(""), restored.list(""));
        assertEquals(original.oldestAvailableRevision(), restored.oldestAvailableRevision());
        assertEquals(original.changesSince(1, Selector.prefix("")), restored.changesSince(1, Selector.prefix("")));
        assertArrayEquals(snapshot, restored.snapshot(), "the same state encodes to the same bytes");

        // subsequent behaviour: the same entries give the same results and the same state
        Random r = new Random(99);
        long term = original.appliedTerm();
        long first = original.appliedIndex() + 1;
        for (long i = first; i < first + 300; i++) {
            KvCommand c = KvDeterminismTest.randomCommand(r, term);
            assertEquals(original.apply(i, term, c), restored.apply(i, term, c), "entry " + i + ": " + c);
        }
        assertTrue(restored.sameState(original));
    }

    @Test
    void anEmptyMachineRoundTrips() throws Exception {
        KvMachine empty = new KvMachine(KvLimits.defaults());
        KvMachine restored = KvMachine.restore(empty.snapshot(), KvLimits.defaults());
        assertTrue(restored.sameState(empty));
        assertEquals(0, restored.revision());
        assertEquals(new KvResult.Written(1, true), restored.apply(1, 1, KvCommand.put("a", "b")));
    }

    @Test
    void compactedHistorySurvivesTheRoundTrip() throws Exception {
        KvMachine m = new KvMachine(new KvLimits(1 << 20, 2, 1 << 20));
        for (int i = 1; i <= 5; i++) {
            m.apply(i, 1, KvCommand.put("k", "v" + i));
        }
        KvMachine restored = KvMachine.restore(m.snapshot(), m.limits());
        assertEquals(new Changes.Compacted(3, 4), restored.changesSince(3, Selector.key("k")));
        assertEquals(2, ((Changes.Events) restored.changesSince(4, Selector.key("k"))).changes().size());

        // restored with a shorter history: trimmed from its oldest end
        KvMachine shorter = KvMachine.restore(m.snapshot(), new KvLimits(1 << 20, 1, 1 << 20));
        assertEquals(5, shorter.oldestAvailableRevision());
    }

    @Test
    void aStoreRestoredAboveASmallerQuotaShrinksButDoesNotGrow() throws Exception {
        KvMachine big = new KvMachine(new KvLimits(1000, 10, 1000));
        big.apply(1, 1, KvCommand.put("a", new byte[99]));
        big.apply(2, 1, KvCommand.put("b", new byte[99]));
        KvMachine m = KvMachine.restore(big.snapshot(), new KvLimits(150, 10, 1000));
        assertEquals(200, m.sizeBytes());
        KvResult.Refused grow = (KvResult.Refused) m.apply(3, 1, KvCommand.put("c", new byte[0]));
        assertEquals(KvResult.Limit.STORE_SIZE, grow.limit());
        assertInstanceOf(KvResult.Written.class, m.apply(4, 1, KvCommand.put("a", new byte[50])));
        assertInstanceOf(KvResult.Written.class, m.apply(5, 1, KvCommand.delete("b")));
        assertEquals(51, m.sizeBytes());
    }

    @Test
    void damagedSnapshotsAreRefusedWithAReason() {
        byte[] good = populated(3, 50).snapshot();
        KvSnapshotException truncated = assertThrows(KvSnapshotException.class,
                () -> KvMachine.restore(Arrays.copyOf(good, good.length - 3), KvLimits.defaults()));
        assertTrue(truncated.getMessage().startsWith("snapshot: malformed MessagePack"), truncated.getMessage());

        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertEquals("snapshot: trailing bytes after the state", assertThrows(KvSnapshotException.class,
                () -> KvMachine.restore(trailing, KvLimits.defaults())).getMessage());

        assertThrows(KvSnapshotException.class, () -> KvMachine.restore(new byte[0], KvLimits.defaults()));
        assertThrows(KvSnapshotException.class, () -> KvMachine.restore(new byte[] {(byte) 0xc1}, KvLimits.defaults()));
    }

    @Test
    void anotherVersionOrAnImpossibleStateIsRefused() throws Exception {
        assertEquals("snapshot: version 2, this build reads version 1", assertThrows(KvSnapshotException.class,
                () -> KvMachine.restore(pack(2, 0, 0, 0, 1, List.of(), List.of()), KvLimits.defaults())).getMessage());
        // a key's modify revision above the machine's revision
        assertTrue(assertThrows(KvSnapshotException.class, () -> KvMachine.restore(
                pack(1, 1, 1, 1, 1, List.<Object[]>of(new Object[] {"k", new byte[1], 1L, 2L}), List.of()),
                KvLimits.defaults())).getMessage().contains("modify revision 2"));
        // keys out of order
        assertTrue(assertThrows(KvSnapshotException.class, () -> KvMachine.restore(
                pack(1, 2, 1, 2, 1, List.<Object[]>of(new Object[] {"b", new byte[1], 1L, 1L},
                        new Object[] {"a", new byte[1], 2L, 2L}), List.of()),
                KvLimits.defaults())).getMessage().contains("is not after"));
        // an invalid key
        assertTrue(assertThrows(KvSnapshotException.class, () -> KvMachine.restore(
                pack(1, 1, 1, 1, 1, List.<Object[]>of(new Object[] {"", new byte[1], 1L, 1L}), List.of()),
                KvLimits.defaults())).getMessage().contains("key is empty"));
        // history revisions must increase
        assertTrue(assertThrows(KvSnapshotException.class, () -> KvMachine.restore(
                pack(1, 2, 1, 2, 1, List.of(), List.<Object[]>of(new Object[] {2L, 1, "k", null},
                        new Object[] {1L, 1, "k", null})), KvLimits.defaults())).getMessage().contains("increasing"));
        // and a well-formed hand-made one is accepted
        KvMachine ok = KvMachine.restore(pack(1, 3, 2, 2, 2, List.<Object[]>of(new Object[] {"k", new byte[] {1}, 1L, 2L}),
                List.<Object[]>of(new Object[] {2L, 0, "k", new byte[] {1}})), KvLimits.defaults());
        assertEquals(2, ok.get("k").orElseThrow().modRevision());
        assertFalse(ok.changesSince(2, Selector.key("k")) instanceof Changes.Compacted);
    }

    private static byte[] pack(int version, long index, long term, long revision, long historyStart,
                               List<Object[]> keys, List<Object[]> history) throws Exception {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packArrayHeader(7);
            p.packInt(version);
            p.packLong(index);
            p.packLong(term);
            p.packLong(revision);
            p.packLong(historyStart);
            p.packArrayHeader(keys.size());
            for (Object[] k : keys) {
                p.packArrayHeader(4);
                p.packString((String) k[0]);
                byte[] v = (byte[]) k[1];
                p.packBinaryHeader(v.length);
                p.writePayload(v);
                p.packLong((Long) k[2]);
                p.packLong((Long) k[3]);
            }
            p.packArrayHeader(history.size());
            for (Object[] c : history) {
                p.packArrayHeader(4);
                p.packLong((Long) c[0]);
                p.packInt((Integer) c[1]);
                p.packString((String) c[2]);
                if (c[3] == null) {
                    p.packNil();
                } else {
                    byte[] v = (byte[]) c[3];
                    p.packBinaryHeader(v.length);
                    p.writePayload(v);
                }
            }
            return p.toByteArray();
        }
    }
}
