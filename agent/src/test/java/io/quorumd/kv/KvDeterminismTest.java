package io.quorumd.kv;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Applying is deterministic: machines fed the same entries (seeded random ones: puts, deletes,
 * compares, fences, refusals, no-ops) give the same results and end equal, a machine restored from
 * a snapshot taken anywhere on the way ends equal too, and the revisions agree with a naive model.
 */
class KvDeterminismTest {
    private static final String[] KEYS = {"a", "b", "app/x", "app/y", "app/z", "é", "🔑"};

    static KvCommand randomCommand(Random r, long term) {
        byte[] key = r.nextInt(40) == 0 ? new byte[] {(byte) 0xC3}
                : KEYS[r.nextInt(KEYS.length)].getBytes(StandardCharsets.UTF_8);
        OptionalLong rev = r.nextInt(3) == 0 ? OptionalLong.of(r.nextInt(6)) : OptionalLong.empty();
        OptionalLong fence = r.nextInt(4) == 0 ? OptionalLong.of(Math.max(0, term - r.nextInt(2))) : OptionalLong.empty();
        int kind = r.nextInt(20);
        if (kind == 0) {
            return new KvCommand.Noop();
        } else if (kind <= 5) {
            return new KvCommand.Delete(key, rev, fence);
        } else {
            byte[] value = new byte[r.nextInt(30) == 0 ? 33_000 : r.nextInt(64)];
            r.nextBytes(value);
            return new KvCommand.Put(key, value, rev, fence);
        }
    }

    private record Entry(long index, long term, KvCommand command) {}

    private static List<Entry> entries(long seed, int n) {
        Random r = new Random(seed);
        List<Entry> out = new ArrayList<>();
        long index = 0;
        long term = 1;
        for (int i = 0; i < n; i++) {
            index += 1 + (r.nextInt(10) == 0 ? r.nextInt(3) : 0); // gaps: entries the store never sees
            if (r.nextInt(25) == 0) {
                term++;
            }
            out.add(new Entry(index, term, randomCommand(r, term)));
        }
        return out;
    }

    @Test
    void machinesFedTheSameEntriesAreEqual() throws Exception {
        for (long seed = 1; seed <= 30; seed++) {
            List<Entry> log = entries(seed, 600);
            KvLimits limits = new KvLimits(300, 50, 4_000); // small: quota and compaction are reached
            KvMachine a = new KvMachine(limits);
            KvMachine b = new KvMachine(limits);
            int cut = new Random(seed * 31).nextInt(log.size());
            KvMachine c = null;
            for (int i = 0; i < log.size(); i++) {
                Entry e = log.get(i);
                KvResult ra = a.apply(e.index, e.term, e.command);
                assertEquals(ra, b.apply(e.index, e.term, e.command), "seed " + seed + " entry " + e.index);
                if (i == cut) {
                    c = KvMachine.restore(a.snapshot(), limits);
                } else if (c != null) {
                    assertEquals(ra, c.apply(e.index, e.term, e.command), "seed " + seed + " restored, entry " + e.index);
                }
            }
            assertTrue(a.sameState(b), "seed " + seed);
            assertTrue(a.sameState(c), "seed " + seed + ", snapshot after entry " + cut);
            assertArrayEquals(a.snapshot(), b.snapshot());
            assertEquals(a.list(""), b.list(""));
        }
    }

    @Test
    void revisionsAndResultsAgreeWithANaiveModel() {
        for (long seed = 100; seed < 120; seed++) {
            KvMachine m = new KvMachine(KvLimits.defaults());
            Map<String, long[]> model = new HashMap<>(); // key -> {create, mod}
            long revision = 0;
            for (Entry e : entries(seed, 500)) {
                KvResult r = m.apply(e.index, e.term, e.command);
                if (e.command instanceof KvCommand.Noop) {
                    assertEquals(new KvResult.Applied(), r);
                    continue;
                }
                byte[] keyBytes = e.command instanceof KvCommand.Put p ? p.key() : ((KvCommand.Delete) e.command).key();
                OptionalLong rev = e.command instanceof KvCommand.Put p ? p.expectedRevision()
                        : ((KvCommand.Delete) e.command).expectedRevision();
                OptionalLong fence = e.command instanceof KvCommand.Put p ? p.fenceTerm()
                        : ((KvCommand.Delete) e.command).fenceTerm();
                String key = new String(keyBytes, StandardCharsets.UTF_8);
                boolean badKey = keyBytes.length == 1 && keyBytes[0] == (byte) 0xC3;
                boolean bigValue = e.command instanceof KvCommand.Put p && p.value().length > KvLimits.MAX_VALUE_BYTES;
                long[] cur = model.get(key);
                long mod = cur == null ? 0 : cur[1];
                KvResult expected;
                if (badKey || bigValue) {
                    assertTrue(r instanceof KvResult.Refused, r.toString());
                    continue;
                } else if (fence.isPresent() && fence.getAsLong() != e.term) {
                    expected = new KvResult.Fenced(fence.getAsLong(), e.term);
                } else if (e.command instanceof KvCommand.Delete && cur == null) {
                    expected = new KvResult.NotFound(key);
                } else if (rev.isPresent() && rev.getAsLong() != mod) {
                    expected = new KvResult.CompareFailed(key, rev.getAsLong(), mod);
                } else if (e.command instanceof KvCommand.Delete) {
                    revision++;
                    model.remove(key);
                    expected = new KvResult.Written(revision, false);
                } else {
                    revision++;
                    model.put(key, new long[] {cur == null ? revision : cur[0], revision});
                    expected = new KvResult.Written(revision, cur == null);
                }
                assertEquals(expected, r, "seed " + seed + " entry " + e.index + ": " + e.command);
            }
            assertEquals(revision, m.revision());
            for (Map.Entry<String, long[]> k : model.entrySet()) {
                KeyValue kv = m.get(k.getKey()).orElseThrow();
                assertEquals(k.getValue()[0], kv.createRevision());
                assertEquals(k.getValue()[1], kv.modRevision());
            }
            assertEquals(model.size(), m.keyCount());
            assertFalse(m.list("").isEmpty());
        }
    }
}
