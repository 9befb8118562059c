package io.quorumd.lin;

import io.quorumd.kv.KeyValue;
import io.quorumd.kv.KvCommand;
import io.quorumd.kv.KvLimits;
import io.quorumd.kv.KvMachine;
import io.quorumd.kv.KvResult;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded random histories that are linearizable by construction: each op takes effect on a
 * {@link KvMachine} at a random point inside its interval, so the store itself answers. The checker
 * must accept every one (some with unknown outcomes, applied or not) and reject each once one read
 * is made stale.
 */
class LinearizabilityRandomTest {

    private static final class Planned {
        final int client;
        final long invoke;
        final long point;
        final long response;
        final String key;
        final int kind; // 0 get, 1 put, 2 cas, 3 delete
        final boolean unknown;
        final boolean happens;
        Call call;
        Result result;

        Planned(int client, long invoke, long point, long response, String key, int kind, boolean unknown,
                boolean happens) {
            this.client = client;
            this.invoke = invoke;
            this.point = point;
            this.response = response;
            this.key = key;
            this.kind = kind;
            this.unknown = unknown;
            this.happens = happens;
        }
    }

    static List<Op> history(long seed, int n, int keys, int clients) {
        return history(seed, n, keys, clients, 50);
    }

    /** One write in {@code unknownEvery} (on average) gets no answer; half of those happen. */
    static List<Op> history(long seed, int n, int keys, int clients, int unknownEvery) {
        Random r = new Random(seed);
        long[] free = new long[clients];
        int[] clientId = new int[clients];
        int nextClient = clients;
        for (int i = 0; i < clients; i++) {
            clientId[i] = i;
        }
        List<Planned> planned = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int slot = r.nextInt(clients);
            long invoke = free[slot] + r.nextInt(20);
            long point = invoke + 1 + r.nextInt(30);
            long response = point + 1 + r.nextInt(30);
            int roll = r.nextInt(10);
            int kind = roll < 4 ? 0 : roll < 7 ? 1 : roll < 9 ? 2 : 3;
            boolean unknown = kind != 0 && r.nextInt(unknownEvery) == 0;
            planned.add(new Planned(clientId[slot], invoke, point, response, "k" + r.nextInt(keys), kind, unknown,
                    r.nextBoolean()));
            free[slot] = response;
            if (unknown) {
                clientId[slot] = nextClient++; // the client gave up: a new one takes its place
            }
        }
        planned.sort(Comparator.comparingLong(p -> p.point));
        KvMachine store = new KvMachine(KvLimits.defaults());
        long index = 0;
        int value = 0;
        for (Planned p : planned) {
            byte[] key = p.key.getBytes(StandardCharsets.UTF_8);
            Optional<KeyValue> current = store.get(p.key);
            long currentRev = current.map(KeyValue::modRevision).orElse(0L);
            String v = "v" + value++;
            KvCommand command;
            switch (p.kind) {
                case 0 -> {
                    p.call = new Call.Get(p.key);
                    p.result = current.<Result>map(kv -> new Result.Found(
                            new String(kv.value(), StandardCharsets.UTF_8), kv.modRevision())).orElse(new Result.NotFound());
                    continue;
                }
                case 1 -> {
                    p.call = new Call.Put(p.key, v);
                    command = KvCommand.put(p.key, v);
                }
                case 2 -> {
                    long expected = r.nextInt(3) > 0 ? currentRev : Math.max(0, currentRev - 1 - r.nextInt(3));
                    p.call = new Call.Cas(p.key, expected, v);
                    command = new KvCommand.Put(key, v.getBytes(StandardCharsets.UTF_8), OptionalLong.of(expected),
                            OptionalLong.empty());
                }
                default -> {
                    p.call = new Call.Delete(p.key, -1);
                    command = KvCommand.delete(p.key);
                }
            }
            if (p.unknown) {
                p.result = new Result.Unknown();
                if (!p.happens) {
                    continue;
                }
            }
            KvResult applied = store.apply(++index, 1, command);
            if (!p.unknown) {
                p.result = applied instanceof KvResult.Written w ? new Result.Written(w.revision())
                        : applied instanceof KvResult.NotFound ? new Result.NotFound() : new Result.CompareFailed();
            }
        }
        planned.sort(Comparator.comparingLong(p -> p.invoke));
        List<Op> ops = new ArrayList<>();
        for (Planned p : planned) {
            ops.add(new Op(ops.size(), p.client, p.invoke, p.unknown ? Op.NEVER : p.response, p.call, p.result));
        }
        return ops;
    }

    @Test
    void twoThousandOpsOverTenKeysWithEightClientsAreLinearizable() {
        List<Op> ops = history(42, 2000, 10, 8);
        Linearizability.check(ops); // warm-up, so the time printed below is the checker's, not the JIT's
        Verdict v = Linearizability.check(ops);
        System.out.println("LinearizabilityRandomTest: " + v);
        assertTrue(v.linearizable(), v::toString);
    }

    @Test
    void randomLinearizableHistoriesPass() {
        for (long seed = 1; seed <= 30; seed++) {
            Verdict v = Linearizability.check(history(seed, 400, 1 + (int) (seed % 4), 2 + (int) (seed % 7)));
            assertTrue(v.linearizable(), "seed " + seed + ": " + v);
        }
    }

    @Test
    void oneStaleReadMakesAHistoryFail() {
        int mutated = 0;
        for (long seed = 1; seed <= 30; seed++) {
            List<Op> ops = new ArrayList<>(history(seed, 400, 3, 5));
            Op stale = staleRead(ops);
            if (stale == null) {
                continue;
            }
            ops.set(stale.id(), stale);
            Verdict v = Linearizability.check(ops);
            long s = seed;
            assertFalse(v.linearizable(), "seed " + seed + ": #" + stale.id() + " made stale, yet " + v);
            // the per-key explanation is shrunk to the stale read and the writes it contradicts
            Violation perKey = v.violations().stream().filter(x -> x.kind() == Violation.Kind.NOT_LINEARIZABLE)
                    .findFirst().orElseThrow(() -> new AssertionError("seed " + s + ": " + v));
            assertTrue(perKey.ops().contains(stale) && perKey.ops().size() <= 4, "seed " + seed + ": " + perKey);
            mutated++;
        }
        assertTrue(mutated >= 20, "only " + mutated + " histories had a read to make stale");
    }

    /** A read made to return a value an acknowledged write had replaced before the read began. */
    private static Op staleRead(List<Op> ops) {
        for (Op read : ops) {
            if (!(read.call() instanceof Call.Get)) {
                continue;
            }
            Op newer = null;
            for (Op w : ops) {
                if (w.key().equals(read.key()) && w.writtenRevision() > 0 && w.response() < read.invoke()
                        && (newer == null || w.writtenRevision() > newer.writtenRevision())) {
                    newer = w;
                }
            }
            if (newer == null) {
                continue;
            }
            for (Op old : ops) {
                if (old.key().equals(read.key()) && old.writtenRevision() > 0
                        && old.writtenRevision() < newer.writtenRevision() && !(old.call() instanceof Call.Delete)) {
                    String value = old.call() instanceof Call.Put p ? p.value() : ((Call.Cas) old.call()).value();
                    return new Op(read.id(), read.client(), read.invoke(), read.response(), read.call(),
                            new Result.Found(value, old.writtenRevision()));
                }
            }
        }
        return null;
    }
}
