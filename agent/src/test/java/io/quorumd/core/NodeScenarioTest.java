package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small, fully deterministic scenarios on a perfect network (1 ms per frame, disks ack in 1 ms,
 * commands stop in 1 ms): the happy paths whose timing we can state exactly. The seeded fault
 * simulator in io.quorumd.sim covers everything else.
 */
class NodeScenarioTest {
    static final long MS = Timing.MS;
    static final Timing TIMING = new Timing(100 * MS, 1000 * MS, 0.01, 1000 * MS, 60_000 * MS);

    /** A tiny in-memory world: one clock for all, a queue of timed deliveries. */
    static final class World {
        record Timed(long at, long seq, String node, Event event) {}

        final Map<String, Node> nodes = new TreeMap<>();
        final Map<String, Boolean> up = new TreeMap<>();
        final PriorityQueue<Timed> queue = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
        final List<String> log = new ArrayList<>();
        final Map<String, Long> commandStartedAt = new TreeMap<>();
        final Map<String, Long> commandTerm = new TreeMap<>();
        /** nodes cut off from everyone (both ways) */
        final java.util.Set<String> cut = new java.util.TreeSet<>();
        /** how long each node's command takes to stop (default 1 ms) */
        final Map<String, Long> stopDelay = new TreeMap<>();
        /** each node's term and vote on disk (a write lands when it is acknowledged) */
        final Map<String, TermState> disk = new TreeMap<>();
        /** crashed nodes whose host is down too: a probe gets silence, not a refusal */
        final java.util.Set<String> hostDown = new java.util.TreeSet<>();
        /** the ids of the step-downs asked through {@link #askStepDown} */
        long stepDownIds;
        /** nodes whose disk refuses every write */
        final java.util.Set<String> diskFailing = new java.util.TreeSet<>();
        final List<Peer> peerList = new ArrayList<>();
        /** with hooks.fence: how the fence hook answers a RunFence (null: no fence configured) */
        final java.util.function.Function<Effect.RunFence, Event.FenceResult> fence;
        /** every LeaseRenewed per node: {when, lease end} (what the watchdog is fed) */
        final Map<String, List<long[]>> leaseRenewals = new TreeMap<>();
        /** every RunFence: when, by whom, against whom */
        final List<String> fences = new ArrayList<>();
        long now;
        long seq;

        World(int n) {
            this(n, null);
        }

        World(int n, java.util.function.Function<Effect.RunFence, Event.FenceResult> fence) {
            this.fence = fence;
            for (int i = 0; i < n; i++) peerList.add(new Peer("n" + i, 100));
            for (Peer p : peerList) start(p.id(), peerList, TermState.INITIAL, new Proof(Proof.Kind.CERTIFICATE, p.id(), 0, true));
        }

        /** {@code timing.preempt_delay} of each node (absent: off) */
        final Map<String, Long> preemptDelay = new TreeMap<>();

        /** Peers with these priorities ({@code n0}, {@code n1}, ...), each with {@code preemptDelayNanos}. */
        World(int[] priorities, long preemptDelayNanos) {
            this.fence = null;
            for (int i = 0; i < priorities.length; i++) {
                peerList.add(new Peer("n" + i, priorities[i]));
                preemptDelay.put("n" + i, preemptDelayNanos);
            }
            for (Peer p : peerList) start(p.id(), peerList, TermState.INITIAL, new Proof(Proof.Kind.CERTIFICATE, p.id(), 0, true));
        }

        /** Starts a crashed node's agent again, from its disk, with the certificate of its last command's term. */
        void restart(String id) {
            start(id, peerList, disk.getOrDefault(id, TermState.INITIAL),
                    new Proof(Proof.Kind.CERTIFICATE, id, commandTerm.getOrDefault(id, 0L), true));
        }

        /** The operator's step-down of {@code id}, answered by a StepDownDone with the id it returns. */
        long askStepDown(String id, String to) {
            long requestId = ++stepDownIds;
            deliver(id, new Event.StepDownRequested(to, requestId));
            return requestId;
        }

        void start(String id, List<Peer> ps, TermState st, Proof cert) {
            hostDown.remove(id);
            Node node = new Node(new NodeConfig(new Peers(id, ps), TIMING, fence != null,
                    preemptDelay == null ? NodeConfig.PREEMPT_OFF : preemptDelay.getOrDefault(id, NodeConfig.PREEMPT_OFF)), st, id.hashCode(), cert,
                    new SplittableRandom(id.hashCode()), now);
            nodes.put(id, node);
            up.put(id, true);
            at(now, id, new Event.Tick());
        }

        void at(long t, String node, Event e) { queue.add(new Timed(t, seq++, node, e)); }

        void crash(String id) {
            up.put(id, false);
            if (commandStartedAt.remove(id) != null) log.add(now / MS + " " + id + " command killed with agent");
        }

        void runUntil(long until) {
            while (true) {
                long nextTick = Long.MAX_VALUE;
                String tickNode = null;
                for (var e : nodes.entrySet()) {
                    if (!up.get(e.getKey())) continue;
                    long d = e.getValue().nextDeadlineNanos();
                    if (d < nextTick) { nextTick = d; tickNode = e.getKey(); }
                }
                Timed q = queue.peek();
                long next = Math.min(nextTick, q == null ? Long.MAX_VALUE : q.at);
                if (next > until) { now = until; return; }
                now = Math.max(now, next);
                if (q != null && q.at <= nextTick) {
                    queue.poll();
                    if (up.get(q.node)) deliver(q.node, q.event);
                } else {
                    deliver(tickNode, new Event.Tick());
                }
            }
        }

        void deliver(String id, Event e) {
            Node n = nodes.get(id);
            for (Effect f : n.handle(e, now)) apply(id, f);
        }

        void apply(String id, Effect f) {
            if (f instanceof Effect.Publish p) {
                for (String o : nodes.keySet()) if (!o.equals(id)) send(id, o, p.keepAlive());
            } else if (f instanceof Effect.Request r) {
                if (r.message() instanceof Message.HandOver) log.add(now / MS + " " + id + " HandOver to " + r.to());
                send(id, r.to(), r.message());
            } else if (f instanceof Effect.Respond r) {
                send(id, r.to(), r.message());
            } else if (f instanceof Effect.Persist p) {
                if (diskFailing.contains(id)) {
                    at(now + MS, id, new Event.PersistFailed(p.seq(), "disk full"));
                } else {
                    disk.put(id, new TermState(p.term(), p.votedFor()));
                    at(now + MS, id, new Event.Persisted(p.seq()));
                }
            } else if (f instanceof Effect.StartCommand s) {
                for (var e : commandStartedAt.entrySet())
                    throw new AssertionError(id + " starts its command while " + e.getKey() + "'s runs\n" + String.join("\n", log));
                commandStartedAt.put(id, now);
                commandTerm.put(id, s.term());
                log.add(now / MS + " " + id + " StartCommand term " + s.term());
            } else if (f instanceof Effect.StopCommand s) {
                commandStartedAt.remove(id);
                log.add(now / MS + " " + id + " StopCommand");
                at(now + stopDelay.getOrDefault(id, MS), id, new Event.CommandStopped(s.term()));
            } else if (f instanceof Effect.RoleChanged r) {
                log.add(now / MS + " " + id + " " + r.role() + " term " + r.term() + ": " + r.reason());
            } else if (f instanceof Effect.Trace t) {
                log.add(now / MS + " " + id + "   " + t.text());
            } else if (f instanceof Effect.LeaseRenewed l) {
                leaseRenewals.computeIfAbsent(id, k -> new ArrayList<>()).add(new long[] {now, l.leaseEndNanos()});
            } else if (f instanceof Effect.RunHook h) {
                log.add(now / MS + " " + id + " RunHook " + h.hook() + " term " + h.term() + " master " + h.master());
            } else if (f instanceof Effect.RunFence r) {
                fences.add(now / MS + " " + id + " fences " + r.oldMaster() + " term " + r.oldTerm());
                log.add(now / MS + " " + id + " RunFence " + r);
                at(now + 10 * MS, id, fence.apply(r));
            } else if (f instanceof Effect.ReadyToExit) {
                log.add(now / MS + " " + id + " ReadyToExit");
            } else if (f instanceof Effect.Probe p) {
                // the target's host answers with RST when its agent is down; a cut or a host down is silence
                String to = p.peer();
                boolean refused = !up.get(to) && !hostDown.contains(to) && !cut.contains(id) && !cut.contains(to);
                log.add(now / MS + " " + id + " Probe " + to + (refused ? ": refused" : ": no answer"));
                if (refused) at(now + 2 * MS, id, new Event.PeerRefused(to));
            } else if (f instanceof Effect.StepDownDone d) {
                log.add(now / MS + " " + id + " StepDownDone #" + d.requestId());
            } else if (!(f instanceof Effect.LeaseRenewed)) {
                throw new AssertionError("the scenario world does not apply " + f);
            }
        }

        /** directed links that drop every frame, as {@code "from>to"} */
        final java.util.Set<String> blocked = new java.util.TreeSet<>();

        void send(String from, String to, Message m) {
            if (blocked.contains(from + ">" + to)) return;
            if (!cut.contains(from) && !cut.contains(to)) at(now + MS, to, new Event.Received(m));
        }

        String master() {
            String m = null;
            for (var e : nodes.entrySet()) {
                if (up.get(e.getKey()) && e.getValue().role() == Role.MASTER) {
                    if (m != null) throw new AssertionError("two masters: " + m + " and " + e.getKey());
                    m = e.getKey();
                }
            }
            return m;
        }

        String dump() { return String.join("\n", log); }

        /** Runs the first 3 s (a fresh cluster elects and starts): the master then. */
        String settle() {
            runUntil(3000 * MS);
            String m = master();
            assertNotNull(m, dump());
            return m;
        }
    }

    @Test
    void freshClusterElectsOneMasterAndStartsAtOnce() {
        World w = new World(3);
        w.runUntil(2500 * MS);
        String m = w.master();
        assertNotNull(m, w.dump());
        assertEquals(1, w.commandStartedAt.size(), w.dump());
        // nobody ever heard a master: nothing to wait for
        long started = w.commandStartedAt.get(m);
        assertTrue(started < 1300 * MS, "started at " + started / MS + " ms\n" + w.dump());
        assertEquals(new Clearance(Clearance.By.NO_MASTER, null, 0, "no master known to the voters, and none could have been forgotten"),
                w.nodes.get(m).view(w.now).clearedBy());
    }

    @Test
    void masterCrashWaitsForTheOldLeasePlusStopTimeout() {
        World w = new World(3);
        String old = w.settle();
        long crashAt = w.now;
        w.crash(old);
        w.runUntil(crashAt + 4000 * MS);
        String m = w.master();
        assertNotNull(m, w.dump());
        assertTrue(!m.equals(old));
        long started = w.commandStartedAt.get(m);
        long failover = started - crashAt;
        // the followers heard the old master at most a heartbeat before the crash: t + stop wait
        assertTrue(failover >= TIMING.electionTimeoutNanos() - 100 * MS + TIMING.stopWaitNanos(), failover / MS + " ms\n" + w.dump());
        assertTrue(failover <= 2 * TIMING.electionTimeoutNanos() + TIMING.stopWaitNanos() + 100 * MS, failover / MS + " ms\n" + w.dump());
        assertTrue(w.commandTerm.get(m) > 1);
        Clearance c = w.nodes.get(m).view(w.now).clearedBy();
        assertEquals(Clearance.By.LEASE_EXPIRY, c.by(), w.dump());
        assertEquals(old, c.oldMaster());
        assertEquals("lease expiry: waited out the old lease plus stop_timeout of " + old + " (master in term " + c.oldTerm() + ")",
                c.describe());
    }

    @Test
    void stepDownHandsOverWithoutWaiting() {
        World w = new World(3);
        String old = w.settle();
        long t0 = w.now;
        w.at(t0, old, new Event.StepDownRequested(null));
        w.runUntil(t0 + 500 * MS);
        String m = w.master();
        assertNotNull(m, w.dump());
        assertTrue(!m.equals(old), w.dump());
        long started = w.commandStartedAt.get(m);
        assertTrue(started - t0 < 50 * MS, "hand-over took " + (started - t0) / MS + " ms\n" + w.dump());
        Clearance c = w.nodes.get(m).view(w.now).clearedBy();
        assertEquals(Clearance.By.HANDOVER, c.by(), w.dump());
        assertEquals(old, c.oldMaster());
        assertEquals("hand-over from " + old + " (master in term " + c.oldTerm() + ")", c.describe());
    }

    @Test
    void shutdownOfMasterHandsOverThenExits() {
        World w = new World(3);
        String old = w.settle();
        long t0 = w.now;
        w.at(t0, old, new Event.ShutdownRequested());
        w.runUntil(t0 + 500 * MS);
        assertTrue(w.dump().contains(old + " ReadyToExit"), w.dump());
        String m = w.master();
        assertNotNull(m);
        assertTrue(w.commandStartedAt.get(m) - t0 < 50 * MS, w.dump());
    }

    @Test
    void soloNodeElectsItself() {
        World w = new World(1);
        w.runUntil(2500 * MS);
        assertEquals("n0", w.master(), w.dump());
        assertEquals(1, w.commandStartedAt.size());
    }

    @Test
    void restartedMasterWithCertificateLetsTheNextStartAtOnce() {
        World w = new World(3);
        String old = w.settle();
        long term = w.commandTerm.get(old);
        long crashAt = w.now;
        w.crash(old);
        w.runUntil(crashAt + 100 * MS);
        List<Peer> ps = List.of(new Peer("n0", 100), new Peer("n1", 100), new Peer("n2", 100));
        w.start(old, ps, new TermState(term, old), new Proof(Proof.Kind.CERTIFICATE, old, term, true));
        w.runUntil(crashAt + 1000 * MS);
        String m = w.master();
        assertNotNull(m, w.dump());
        long failover = w.commandStartedAt.get(m) - crashAt;
        assertTrue(failover < 500 * MS, failover / MS + " ms\n" + w.dump());
        Clearance c = w.nodes.get(m).view(w.now).clearedBy();
        assertEquals(new Clearance(Clearance.By.CERTIFICATE, old, term, "certificate from " + old + " for term " + term), c, w.dump());
        assertEquals("restart certificate of " + old + " (master in term " + term + ")", c.describe());
        for (String id : w.nodes.keySet())
            if (!id.equals(m)) assertNull(w.nodes.get(id).view(w.now).clearedBy(), "only the master says what cleared it");
    }

    /**
     * Simulator seed 15816: a master asked to step down loses its lease while its command takes
     * the whole stop_timeout to die. When the command is finally gone it is no master any more, and
     * someone else rules a newer term: it must not ask a peer to campaign (that unseated the new
     * master and cost a second wait), only publish that its command is gone.
     */
    @Test
    void aMasterThatLostItsLeaseWhileStoppingDoesNotHandOver() {
        World w = new World(3);
        String old = w.settle();
        long t0 = w.now;
        w.stopDelay.put(old, 2500 * MS);
        w.at(t0, old, new Event.StepDownRequested(null));
        w.cut.add(old);   // the step-down's hand-over cannot reach anyone; the lease runs out
        w.runUntil(t0 + 2000 * MS);
        String next = w.master();
        assertNotNull(next, w.dump());
        long term = w.nodes.get(next).term();
        w.cut.clear();
        w.runUntil(t0 + 6000 * MS);   // the old command stopped at t0 + 2.5 s
        assertFalse(w.dump().contains(old + " HandOver to"), w.dump());
        assertEquals(next, w.master(), w.dump());
        assertEquals(term, w.nodes.get(next).term(), "the new master kept its term\n" + w.dump());
        assertTrue(w.commandStartedAt.containsKey(next), w.dump());
    }

    // ------------------------------------------------------------------ the fence hook as proof

    /** Crashes the master of a settled cluster (not restarted): the fail-over, from the crash to the next command start. */
    private static long crashFailover(World w, String[] oldAndNew) {
        String old = w.settle();
        long crashAt = w.now;
        w.crash(old);
        w.runUntil(crashAt + 4000 * MS);
        String m = w.master();
        assertNotNull(m, w.dump());
        assertTrue(!m.equals(old), w.dump());
        assertTrue(w.commandStartedAt.containsKey(m), w.dump());
        oldAndNew[0] = old;
        oldAndNew[1] = m;
        return w.commandStartedAt.get(m) - crashAt;
    }

    /** The no-proof lower bound of masterCrashWaitsForTheOldLeasePlusStopTimeout. */
    private static final long NO_PROOF_MIN = TIMING.electionTimeoutNanos() - 100 * MS + TIMING.stopWaitNanos();

    @Test
    void aFenceThatSucceededAfterTheOldLeaseIsProof() {
        World w = new World(3, r -> new Event.FenceResult(r.oldMaster(), r.oldTerm(), true, "fenced"));
        String[] on = new String[2];
        long failover = crashFailover(w, on);
        assertEquals(1, w.fences.size(), w.dump());
        assertTrue(w.fences.get(0).endsWith(on[1] + " fences " + on[0] + " term " + w.commandTerm.get(on[0])), w.fences.get(0));
        // the fence runs only once the old lease has surely ended, and spares the stop_timeout wait
        long fencedAt = Long.parseLong(w.fences.get(0).split(" ")[0]) * MS;
        assertTrue(fencedAt - (w.now - 4000 * MS) >= TIMING.electionTimeoutNanos() - 100 * MS, w.dump());
        assertTrue(failover < NO_PROOF_MIN, "fenced, yet it waited " + failover / MS + " ms\n" + w.dump());
    }

    @Test
    void aFenceThatFailedIsNoProof() {
        World w = new World(3, r -> new Event.FenceResult(r.oldMaster(), r.oldTerm(), false, "exit status 1"));
        long failover = crashFailover(w, new String[2]);
        assertEquals(1, w.fences.size(), w.dump());
        assertTrue(failover >= NO_PROOF_MIN, failover / MS + " ms\n" + w.dump());
    }

    @Test
    void aFenceResultForAnotherTermOrNodeIsNoProof() {
        World older = new World(3, r -> new Event.FenceResult(r.oldMaster(), r.oldTerm() - 1, true, "fenced"));
        assertTrue(crashFailover(older, new String[2]) >= NO_PROOF_MIN, older.dump());
        World other = new World(3, r -> new Event.FenceResult(r.oldMaster() + "x", r.oldTerm(), true, "fenced"));
        assertTrue(crashFailover(other, new String[2]) >= NO_PROOF_MIN, other.dump());
    }

    /**
     * A fence covers only a master that was cleared in its term: fencing one that never ran its
     * command says nothing of the master before it. Here A runs its command and crashes (its
     * fence fails), B is elected and crashes while still waiting, and C's fence of B succeeds:
     * C must still wait the no-proof bound, since no voter saw B cleared.
     */
    @Test
    void aFenceOfAMasterThatNeverRanItsCommandIsNoProof() {
        String[] first = new String[1];
        World w = new World(5, r -> new Event.FenceResult(r.oldMaster(), r.oldTerm(), !r.oldMaster().equals(first[0]),
                r.oldMaster().equals(first[0]) ? "exit status 1" : "fenced"));
        String a = w.settle();
        first[0] = a;
        w.crash(a);
        String b = null;
        for (long until = w.now + 4000 * MS; b == null && w.now < until; ) {
            w.runUntil(w.now + 5 * MS);
            String m = w.master();
            if (m != null && !m.equals(a)) b = m;
        }
        assertNotNull(b, w.dump());
        assertFalse(w.commandStartedAt.containsKey(b), "B must still be waiting\n" + w.dump());
        long crashB = w.now;
        w.crash(b);
        w.runUntil(crashB + 5000 * MS);
        String c = w.master();
        assertNotNull(c, w.dump());
        String fencedB = " fences " + b + " ";
        assertTrue(w.fences.stream().anyMatch(f -> f.contains(fencedB)), w.dump());
        assertTrue(w.commandStartedAt.containsKey(c), w.dump());
        long failover = w.commandStartedAt.get(c) - crashB;
        assertTrue(failover >= NO_PROOF_MIN, "cleared by the fence of a master that never ran its command after "
                + failover / MS + " ms\n" + w.dump());
    }

    /**
     * A master cut off from everyone steps down when its lease runs out and stops its command
     * itself (the watchdog is only the backstop), and runs the on_follower hook; its successor
     * runs on_master.
     */
    @Test
    void aMasterThatLosesItsLeaseStopsItsCommandAndRunsTheHooks() {
        World w = new World(3);
        String old = w.settle();
        long term = w.commandTerm.get(old);
        assertTrue(w.dump().contains(old + " RunHook ON_MASTER term " + term + " master " + old), w.dump());
        long t0 = w.now;
        w.cut.add(old);
        w.runUntil(t0 + TIMING.electionTimeoutNanos() + 2 * TIMING.heartbeatNanos());
        assertFalse(w.commandStartedAt.containsKey(old), "no StopCommand within t + 2 heartbeats\n" + w.dump());
        assertTrue(w.dump().contains(old + " StopCommand"), w.dump());
        assertTrue(w.dump().contains(old + " RunHook ON_FOLLOWER term " + term), w.dump());
        assertTrue(w.nodes.get(old).role() != Role.MASTER, w.dump());
    }

    /**
     * The watchdog lives on LeaseRenewed: a healthy master renews it at least every couple of
     * heartbeats, each renewal a lease end in the future and none going back, so its command is
     * never stopped while the master keeps its majority.
     */
    @Test
    void aHealthyMasterKeepsFeedingTheWatchdog() {
        World w = new World(3);
        String m = w.settle();
        long t0 = w.now;
        w.runUntil(t0 + 5000 * MS);
        assertEquals(m, w.master(), w.dump());
        List<long[]> r = new ArrayList<>();
        for (long[] x : w.leaseRenewals.getOrDefault(m, List.of())) if (x[0] >= t0) r.add(x);
        assertTrue(r.size() >= 5000 / 200, "only " + r.size() + " renewals in 5 s\n" + w.dump());
        long prevAt = t0, prevEnd = 0;
        for (long[] x : r) {
            assertTrue(x[1] > x[0], "a renewal to a lease end in the past");
            assertTrue(x[1] >= prevEnd, "a renewal went back");
            assertTrue(x[0] - prevAt <= 3 * TIMING.heartbeatNanos(), "a gap of " + (x[0] - prevAt) / MS + " ms");
            prevAt = x[0];
            prevEnd = x[1];
        }
        assertTrue(w.commandStartedAt.containsKey(m));
    }
}
