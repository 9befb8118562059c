package io.quorumd.it.local;

import io.quorumd.bench.NetNs;
import io.quorumd.control.Json;
import io.quorumd.lin.Call;
import io.quorumd.lin.History;
import io.quorumd.lin.Linearizability;
import io.quorumd.lin.Result;
import io.quorumd.lin.Verdict;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jepsen's method on real agents: concurrent clients send gets, puts, compare-and-sets and
 * deletes to every agent's control socket (the JSON protocol the README documents) while a
 * nemesis kills masters with -9 and restarts them, stops agents with SIGSTOP, restarts followers
 * and (in network namespaces) cuts the master off. Every call is recorded with its invocation and
 * answer times on this host's one monotonic clock, and the whole history is checked for
 * linearizability by {@link Linearizability}, the checker the simulator uses. Then every agent is
 * killed with -9 at once and restarted: every acknowledged write must still be there (final
 * linearizable reads of every key join the history, and the store's revision is at least the
 * highest one acknowledged).
 *
 * <p>What a call's answer means for the history: an answer is an outcome; a connection that could
 * not be made means the call was never sent (no effect); a write sent whose answer never came (the
 * agent was killed or stopped) or that says "outcome unknown" (exit 1) may or may not have
 * happened, and the checker treats it so. Exit 3 (no majority) is the store's promise that the
 * write had no effect, and the checker holds it to that promise.
 */
@org.junit.jupiter.api.parallel.Isolated
class KvJepsenTest {
    /** Keys the clients share: few, so that calls on one key really race. */
    static final int KEYS = 4;
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(4);
    static final Duration ELECT = Duration.ofSeconds(20);

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)   // a failed run's logs stay for a look
    Path tmp;

    @Test
    void threeAgentsUnderKillsStopsAndRestartsStayLinearizableAndLoseNoAcknowledgedWrite() throws Exception {
        try (LocalCluster c = new LocalCluster(tmp, 3, options())) {
            run(c, 6, null, 1);
        }
    }

    @Test
    void fiveAgentsUnderKillsStopsAndRestartsStayLinearizableAndLoseNoAcknowledgedWrite() throws Exception {
        try (LocalCluster c = new LocalCluster(tmp, 5, options())) {
            run(c, 8, null, 2);
        }
    }

    @Test
    void threeAgentsWithTheMasterCutOffStayLinearizable() throws Exception {
        NetNs ns;
        try {
            ns = new NetNs(3);
        } catch (IOException e) {
            Assumptions.abort("partitions need network namespaces (root and iproute2): " + e.getMessage());
            return;
        }
        try (ns; LocalCluster c = new LocalCluster(tmp, ns.placements(), options())) {
            run(c, 6, ns, 3);
        }
    }

    /**
     * {@code kv.snapshot_entries} on every agent: 50 unless {@code -Dquorumd.jepsen.snapshot_entries=N}
     * says otherwise (empty: the default of 10,000); with a small N the nemesis also hits snapshots,
     * compaction and snapshot installs, and the report counts them from the agents' logs.
     */
    private static LocalCluster.Options options() {
        String entries = System.getProperty("quorumd.jepsen.snapshot_entries", "50").trim();
        LocalCluster.Options o = new LocalCluster.Options().logLevel("info").curve(false);
        if (!entries.isEmpty()) o.topYaml("kv: {snapshot_entries: " + Integer.parseInt(entries) + "}\n");
        return o;
    }

    // ------------------------------------------------------------------ one run

    private void run(LocalCluster c, int clients, NetNs ns, long seed) throws Exception {
        c.startAll();
        c.awaitMasterRunning(ELECT, null);
        History history = new History();
        AtomicBoolean stop = new AtomicBoolean();
        Faults down = new Faults();
        Stats stats = new Stats();
        List<Thread> threads = new ArrayList<>();
        List<String> ids = List.copyOf(c.members.keySet());
        AtomicLong nextClientId = new AtomicLong(clients);
        List<Throwable> clientErrors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < clients; i++) {
            int client = i;
            SplittableRandom r = new SplittableRandom(seed * 1000 + i);
            Thread t = new Thread(() -> {
                try {
                    clientLoop(c, ids, client, r, history, stop, down, stats, nextClientId);
                } catch (Throwable e) {
                    clientErrors.add(e);
                    stop.set(true);
                }
            }, "kv-client-" + i);
            t.start();
            threads.add(t);
        }
        List<String> faults = new ArrayList<>();
        try {
            nemesis(c, ns, new SplittableRandom(seed), down, faults);
        } finally {
            stop.set(true);
            for (Thread t : threads) t.join(CALL_TIMEOUT.toMillis() * 3);
        }
        if (!clientErrors.isEmpty()) {
            AssertionError e = new AssertionError("a client failed: " + clientErrors.get(0), clientErrors.get(0));
            throw e;
        }
        // every agent killed with -9 at once, then restarted: acknowledged writes survive
        for (String id : ids) c.member(id).process.destroyForcibly();
        for (String id : ids) LocalCluster.await(() -> !c.member(id).alive(), Duration.ofSeconds(5), id + " to die");
        faults.add("kill -9 of every agent at once, then restart");
        c.startAll();
        c.awaitMasterRunning(ELECT, null);
        long storeRevision = finalReads(c, ids, history);
        Verdict v = Linearizability.check(history);
        String report = String.format("[kv %d agents] %d calls (%d writes acknowledged, %d unknown, %d refused for want of"
                        + " a majority, %d never sent), faults: %s; checker: %s", ids.size(), history.size(),
                stats.acked.get(), stats.unknown.get(), stats.noMajority.get(), stats.notSent.get(), faults, v);
        report += snapshotCounts(c);
        System.out.println(report);
        assertTrue(v.linearizable(), "not linearizable: " + v + "\n" + report);
        assertTrue(v.undecided().isEmpty(), "the checker could not decide keys " + v.undecided() + ": " + report);
        assertTrue(stats.acked.get() >= 50, "too few acknowledged writes for the test to mean anything: " + report);
        assertTrue(storeRevision >= stats.maxAckedRevision.get(), "the store's revision after the restart of every agent is "
                + storeRevision + ", but revision " + stats.maxAckedRevision.get() + " was acknowledged: " + report);
        assertEquals(0, stats.late.get(), "answers from an agent that was neither stopped nor killed must come within "
                + CALL_TIMEOUT.toMillis() + " ms: " + report);
        assertTrue(c.observer.overlaps().isEmpty(), "commands overlapped: " + c.observer.overlaps());
    }

    /** The faults, in turn, with the cluster left whole between them: about 30 s. */
    private static void nemesis(LocalCluster c, NetNs ns, SplittableRandom r, Faults down, List<String> faults)
            throws Exception {
        Thread.sleep(3000);
        // kill -9 of the master, restarted 200 ms later as systemd would
        String m = c.awaitMasterRunning(ELECT, null);
        down.begin();
        c.kill9(m);
        Thread.sleep(200);
        c.start(m);
        down.end();
        faults.add("kill -9 + restart of master " + m);
        Thread.sleep(4000);
        // SIGSTOP of the master for 3 s
        m = c.awaitMasterRunning(ELECT, null);
        down.begin();
        c.pause(m);
        Thread.sleep(3000);
        c.resume(m);
        down.end();
        faults.add("SIGSTOP of master " + m + " for 3 s");
        Thread.sleep(4000);
        // kill -9 of a follower, restarted 1 s later
        m = c.awaitMasterRunning(ELECT, null);
        List<String> followers = new ArrayList<>(c.members.keySet());
        followers.remove(m);
        String f = followers.get(r.nextInt(followers.size()));
        down.begin();
        c.kill9(f);
        Thread.sleep(1000);
        c.start(f);
        down.end();
        faults.add("kill -9 + restart of follower " + f);
        Thread.sleep(3000);
        if (ns != null) {
            m = c.awaitMasterRunning(ELECT, null);
            int i = Integer.parseInt(m.substring(1));
            down.begin();
            ns.cut(i);
            Thread.sleep(4000);
            ns.heal(i);
            down.end();
            faults.add("master " + m + " cut off for 4 s");
            Thread.sleep(4000);
        }
        // SIGSTOP of a follower
        m = c.awaitMasterRunning(ELECT, null);
        followers = new ArrayList<>(c.members.keySet());
        followers.remove(m);
        f = followers.get(r.nextInt(followers.size()));
        down.begin();
        c.pause(f);
        Thread.sleep(2000);
        c.resume(f);
        down.end();
        faults.add("SIGSTOP of follower " + f + " for 2 s");
        Thread.sleep(3000);
    }

    /** Whether a fault was under way: a call that overlapped none must be answered in time. */
    static final class Faults {
        final AtomicLong epoch = new AtomicLong();
        final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();

        void begin() {
            active.incrementAndGet();
            epoch.incrementAndGet();
        }

        void end() {
            active.decrementAndGet();
            epoch.incrementAndGet();
        }

        /** No fault began or ended since {@code epoch}, and none is under way. */
        boolean quietSince(long e) {
            return active.get() == 0 && epoch.get() == e;
        }
    }

    static final class Stats {
        final AtomicLong acked = new AtomicLong();
        final AtomicLong unknown = new AtomicLong();
        final AtomicLong noMajority = new AtomicLong();
        final AtomicLong notSent = new AtomicLong();
        final AtomicLong late = new AtomicLong();
        final AtomicLong maxAckedRevision = new AtomicLong();
    }

    private static void clientLoop(LocalCluster c, List<String> ids, int client, SplittableRandom r, History history,
                                   AtomicBoolean stop, Faults down, Stats stats, AtomicLong nextClientId) {
        long seq = 0;
        int id = client;
        Map<String, Long> seenRevision = new LinkedHashMap<>();
        while (!stop.get()) {
            String node = ids.get(r.nextInt(ids.size()));
            String key = "k" + r.nextInt(KEYS);
            int dice = r.nextInt(100);
            Call call;
            Map<String, Object> req = new LinkedHashMap<>();
            if (dice < 40) {
                call = new Call.Get(key);
                req.put("op", "kv.get");
            } else if (dice < 70) {
                String value = "c" + client + "-" + (++seq);
                call = new Call.Put(key, value);
                req.put("op", "kv.put");
                req.put("value", value);
            } else if (dice < 88) {
                String value = "c" + client + "-" + (++seq);
                long expected = seenRevision.getOrDefault(key, 0L);
                call = new Call.Cas(key, expected, value);
                req.put("op", "kv.put");
                req.put("value", value);
                req.put("rev", expected);
            } else {
                call = new Call.Delete(key, -1);
                req.put("op", "kv.delete");
            }
            req.put("id", seq + 1);
            req.put("key", key);
            long epoch = down.epoch.get();
            int op;
            synchronized (history) {
                op = history.invoke(id, System.nanoTime(), call);
            }
            long sent = System.nanoTime();
            KvSocket.Answer a = KvSocket.call(c.member(node).socket, req, CALL_TIMEOUT);
            long now = System.nanoTime();
            Result result = result(call, a, stats);
            if (result instanceof Result.Unknown) {
                // never answered: the op stays open to the end of the history, and this client goes
                // on under a new id (a client is sequential; Jepsen does the same)
                if (a.kind() == KvSocket.Kind.SILENT && down.quietSince(epoch)) stats.late.incrementAndGet();
                id = Math.toIntExact(nextClientId.getAndIncrement());
            } else {
                synchronized (history) {
                    history.respond(op, now, result);
                }
            }
            if (result instanceof Result.Found found) seenRevision.put(key, found.modRevision());
            else if (result instanceof Result.NotFound) seenRevision.put(key, 0L);
            else if (result instanceof Result.Written w && !(call instanceof Call.Delete)) seenRevision.put(key, w.revision());
            else if (result instanceof Result.Written) seenRevision.put(key, 0L);
            if (a.kind() != KvSocket.Kind.ANSWERED) sleep(50);   // an agent down: do not spin
            else sleep(r.nextInt(5, 25));
            if (now - sent < 0) throw new AssertionError("clock went backwards");
        }
    }

    /** What an answer means for the checker, as the class comment says. */
    private static Result result(Call call, KvSocket.Answer a, Stats stats) {
        boolean write = !(call instanceof Call.Get);
        switch (a.kind()) {
            case NOT_SENT -> {
                stats.notSent.incrementAndGet();
                return write ? new Result.NoEffect() : new Result.Unknown();   // a read that was not made says nothing
            }
            case SILENT, DROPPED -> {
                if (write) stats.unknown.incrementAndGet();
                return new Result.Unknown();
            }
            default -> { }
        }
        Map<?, ?> m = a.json();
        int exit = ((Number) m.get("exit")).intValue();
        Map<?, ?> res = m.get("result") instanceof Map<?, ?> x ? x : Map.of();
        String error = String.valueOf(m.get("error"));
        if (exit == 0) {
            if (call instanceof Call.Get) {
                return new Result.Found(String.valueOf(res.get("value")), ((Number) res.get("mod_rev")).longValue());
            }
            long rev = ((Number) res.get("rev")).longValue();
            stats.acked.incrementAndGet();
            stats.maxAckedRevision.accumulateAndGet(rev, Math::max);
            return new Result.Written(rev);
        }
        if (exit == 4) {
            if (call instanceof Call.Get || call instanceof Call.Delete) {
                if (!error.contains("not found"))
                    throw new AssertionError("exit 4 for " + call + " that is not 'not found': " + m);
                return new Result.NotFound();
            }
            if (call instanceof Call.Cas) return new Result.CompareFailed();
            throw new AssertionError("exit 4 for an unconditional put " + call + ": " + m);
        }
        if (exit == 3) {
            if (!write) return new Result.Unknown();   // a read that failed says nothing
            stats.noMajority.incrementAndGet();
            return new Result.NoEffect();
        }
        if (exit == 1) {
            if (write) stats.unknown.incrementAndGet();
            return new Result.Unknown();
        }
        throw new AssertionError("unexpected answer to " + call + ": " + m);
    }

    /** After the restart of every agent: a linearizable read of every key, and the store's revision. */
    private static long finalReads(LocalCluster c, List<String> ids, History history) {
        long[] revision = {-1};
        LocalCluster.await(() -> {
            for (String id : ids) {
                KvSocket.Answer a = KvSocket.call(c.member(id).socket, Map.of("op", "kv.list", "id", 1), CALL_TIMEOUT);
                if (a.json() != null && Long.valueOf(0).equals(asLong(a.json().get("exit")))
                        && a.json().get("result") instanceof Map<?, ?> res) {
                    revision[0] = Math.max(revision[0], asLong(res.get("rev")));
                    return true;
                }
            }
            return false;
        }, ELECT, "a kv.list answered after the restart of every agent");
        int client = 1_000_000;
        for (int k = 0; k < KEYS; k++) {
            String key = "k" + k;
            Call.Get get = new Call.Get(key);
            boolean done = false;
            long deadline = System.nanoTime() + ELECT.toNanos();
            while (!done && System.nanoTime() < deadline) {
                String id = ids.get(k % ids.size());
                int op = history.invoke(++client, System.nanoTime(), get);
                KvSocket.Answer a = KvSocket.call(c.member(id).socket, Map.of("op", "kv.get", "id", 1, "key", key), CALL_TIMEOUT);
                long now = System.nanoTime();
                Result r = a.json() == null ? new Result.Unknown() : switch (asLong(a.json().get("exit")).intValue()) {
                    case 0 -> {
                        Map<?, ?> res = (Map<?, ?>) a.json().get("result");
                        yield new Result.Found(String.valueOf(res.get("value")), asLong(res.get("mod_rev")));
                    }
                    case 4 -> new Result.NotFound();
                    default -> new Result.Unknown();
                };
                if (!(r instanceof Result.Unknown)) {
                    history.respond(op, now, r);
                    done = true;
                }
            }
            assertTrue(done, "no answer to the final read of " + key + " within " + ELECT);
        }
        return revision[0];
    }

    /** Snapshots the agents took and installed from a master, from their logs. */
    private static String snapshotCounts(LocalCluster c) {
        long taken = 0;
        long installed = 0;
        for (String id : c.members.keySet()) {
            try {
                for (String line : java.nio.file.Files.readAllLines(c.log(id))) {
                    if (line.contains("taken: ") && line.contains("snapshot at index")) taken++;
                    if (line.contains("installed the snapshot at index")) installed++;
                }
            } catch (IOException e) {
                return "; snapshots: " + id + "'s log unreadable: " + e.getMessage();
            }
        }
        return "; snapshots: " + taken + " taken, " + installed + " installed from a master";
    }

    private static Long asLong(Object o) {
        return o instanceof Number n ? n.longValue() : null;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
