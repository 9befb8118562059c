package io.quorumd.it.local;

import io.quorumd.it.CommandObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

import io.quorumd.core.TermState;
import io.quorumd.storage.StateFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real agent processes (separate JVMs) on loopback: election, kill -9, SIGSTOP/SIGCONT, a peer
 * down at start, whole-cluster restart. Every test ends by asserting that the observer never
 * saw two command groups alive at once, and prints what it measured.
 */
// Real agents measure real time: never share the machine with the concurrent container tests.
@org.junit.jupiter.api.parallel.Isolated
class ClusterProcessTest {
    /** Patience for what includes starting agent JVMs (not a SPEC bound). */
    static final Duration ELECT = Duration.ofSeconds(15);
    /**
     * SPEC's liveness bound from a fault to the next master's command running, 2t + stop_timeout
     * (1 + 2ρ) = 2 × 1000 + 1000 × 1.02 ms here (election_timeout 1 s, stop_timeout 1 s, ρ 1 %),
     * plus 2 s of slack for a loaded CI machine (2 shared cores, other JVMs).
     */
    static final Duration LIVENESS = Duration.ofMillis(2 * 1000 + 1020 + 2000);
    LocalCluster cluster;
    String name;

    @TempDir
    Path tmp;

    @org.junit.jupiter.api.BeforeEach
    void setUp(TestInfo info) throws Exception {
        name = info.getTestMethod().map(java.lang.reflect.Method::getName).orElse("test");
        cluster = new LocalCluster(tmp, 3);
    }

    @AfterEach
    void tearDown() {
        List<String> overlaps;
        try {
            cluster.close();
        } finally {
            overlaps = cluster.observer.overlaps();
        }
        assertTrue(overlaps.isEmpty(), "commands overlapped: " + overlaps + "\n" + cluster.logs());
        System.out.printf("[%s] %d command runs observed in %d polls of /proc, no overlap%n", name,
                cluster.observer.runs().size(), cluster.observer.polls());
    }

    @Test
    void exactlyOneMasterRunsTheCommand() throws Exception {
        cluster.startAll();
        String m = cluster.awaitMasterRunning(ELECT, null);
        long term = LocalCluster.term(cluster.status(m));
        for (String id : cluster.members.keySet()) {
            if (id.equals(m)) continue;
            String other = id;
            LocalCluster.await(() -> {
                Map<String, Object> s = cluster.status(other);
                return "follower".equals(LocalCluster.role(s)) && m.equals(s.get("master"));
            }, ELECT, other + " to follow " + m);
            Map<String, Object> s = cluster.status(id);
            assertEquals(term, LocalCluster.term(s));
            assertEquals("none", commandOrNone(s), "a follower runs no command");
        }
        assertEquals(1, cluster.observer.running().size());
        assertEquals(term, cluster.observer.running().get(0).term(), "the command got the master's term as QUORUMD_TERM");
    }

    @Test
    void killMinusNineOfTheMasterFailsOverAndTheOldNodeRejoinsWithItsTerm() throws Exception {
        cluster.startAll();
        String old = cluster.awaitMasterRunning(ELECT, null);
        long oldTerm = LocalCluster.term(cluster.status(old));
        long t0 = System.nanoTime();
        cluster.kill9(old);
        TermState persistedAtKill = persisted(old);
        String m = awaitFailover(old, t0);
        long failoverMillis = (System.nanoTime() - t0) / 1_000_000;
        long newTerm = LocalCluster.term(cluster.status(m));
        assertTrue(newTerm > oldTerm, "fencing token grows: " + oldTerm + " -> " + newTerm);
        // no proof from a killed agent that was not restarted: the new master waited, and says so
        assertCleared(m, newTerm, t0, "lease_expiry", old, oldTerm, "lease expiry: waited out the old lease plus stop_timeout of " + old);
        cluster.start(old);
        LocalCluster.await(() -> {
            Map<String, Object> s = cluster.status(old);
            return "follower".equals(LocalCluster.role(s)) && m.equals(s.get("master"));
        }, ELECT, old + " to rejoin as follower of " + m);
        assertTrue(LocalCluster.term(cluster.status(old)) >= newTerm);
        assertEquals(m, cluster.masterRunning(), "the rejoining node did not disturb the master");
        // what it persisted before the kill: the term it was master in, with its vote for itself
        assertEquals(new TermState(oldTerm, old), persistedAtKill, "the killed master's state file");
        // and after rejoining, the newer term it learned (written asynchronously: poll)
        LocalCluster.await(() -> persisted(old).term() >= newTerm, ELECT, old + "'s state file to hold term " + newTerm);
        System.out.printf("[%s] kill -9 of %s (term %d): %s runs the command after %d ms (term %d)%n", name, old, oldTerm,
                m, failoverMillis, newTerm);
    }

    /**
     * Every lease any node held, sampled from outside on the one clock they share: the paused
     * master through its last answer before the SIGSTOP (taken just before it), the others every
     * 10 ms. No two leases of different nodes may cover the same instant.
     */
    @Test
    void pausedMasterStepsDownAndNeverTwoMastersWithALease() throws Exception {
        cluster.startAll();
        String old = cluster.awaitMasterRunning(ELECT, null);
        List<Held> held = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                for (String id : cluster.members.keySet()) {
                    Held h = heldLease(id);
                    if (h != null && h.toNanos() > h.fromNanos()) held.add(h);
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.start();
        Held oldLease;
        long pausedAt;
        String m;
        try {
            // the paused master's lease as it stands at the pause: its last answer, just before
            Held h;
            do {
                h = heldLease(old);
            } while (h == null || h.toNanos() <= h.fromNanos());
            oldLease = h;
            cluster.pause(old);
            pausedAt = System.nanoTime();
            held.add(oldLease);
            long t0 = System.nanoTime();
            m = awaitFailover(old, t0);
            long failoverMillis = (System.nanoTime() - t0) / 1_000_000;
            long pausedFor = 3000 - (System.nanoTime() - t0) / 1_000_000;
            if (pausedFor > 0) Thread.sleep(pausedFor);   // hold the pause for 3 election timeouts
            cluster.resume(old);
            LocalCluster.await(() -> "follower".equals(LocalCluster.role(cluster.status(old))), ELECT,
                    old + " to step down after SIGCONT");
            assertEquals(m, cluster.masterRunning());
            System.out.printf("[%s] SIGSTOP of %s: %s runs the command after %d ms%n", name, old, m, failoverMillis);
        } finally {
            sampler.interrupt();
            sampler.join();
        }
        List<Held> all;
        synchronized (held) {
            all = new ArrayList<>(held);
        }
        assertTrue(oldLease.toNanos() > pausedAt, "the paused master's last answer covers the pause: " + oldLease
                + ", paused at " + pausedAt / 1_000_000 + " ms");
        String newMaster = m;
        assertTrue(all.stream().anyMatch(h -> h.node().equals(newMaster)), "the new master's lease was sampled: " + all);
        List<String> doubleLease = new ArrayList<>();
        for (int i = 0; i < all.size(); i++)
            for (int j = i + 1; j < all.size(); j++)
                if (!all.get(i).node().equals(all.get(j).node()) && all.get(i).overlaps(all.get(j)))
                    doubleLease.add(all.get(i) + " and " + all.get(j));
        assertTrue(doubleLease.isEmpty(), "two masters held a lease at once: " + doubleLease.subList(0, Math.min(5, doubleLease.size())));
        long firstNew = all.stream().filter(h -> h.node().equals(newMaster)).mapToLong(Held::fromNanos).min().orElseThrow();
        System.out.printf("[%s] the paused master's lease ran until %d ms after the pause; %s first seen with a lease %d ms after it%n",
                name, (oldLease.toNanos() - pausedAt) / 1_000_000, newMaster, (firstNew - pausedAt) / 1_000_000);
    }

    @Test
    void stepDownHandsOverWithProofAndNoWait() throws Exception {
        cluster.startAll();
        String old = cluster.awaitMasterRunning(ELECT, null);
        long oldTerm = LocalCluster.term(cluster.status(old));
        long t0 = System.nanoTime();
        io.quorumd.control.Reply r = io.quorumd.control.ControlClient.call(cluster.member(old).socket, "step-down",
                Duration.ofSeconds(10));
        assertEquals(0, r.exitCode(), r.body());
        String m = awaitFailover(old, t0);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        // Without proof the successor must wait at least t + stop_timeout (2 s here) by design:
        // anything under one election timeout shows the hand-over's proof was used.
        assertTrue(ms < 1000, "hand-over took " + ms + " ms: the successor did not use the proof\n" + cluster.logs());
        assertCleared(m, LocalCluster.term(cluster.status(m)), t0, "handover", old, oldTerm, "hand-over from " + old);
        System.out.printf("[%s] step-down of %s: %s runs the command %d ms later%n", name, old, m, ms);
    }

    @Test
    void aCrashLoopHandsMastershipToAnotherNode() throws Exception {
        cluster.close();
        cluster = new LocalCluster(tmp.resolve("crashloop"), 3, "1s", "  restart: on-failure\n  max_restarts: 2\n  restart_window: 60s\n");
        cluster.startAll();
        String first = cluster.awaitMasterRunning(ELECT, null);
        long firstTerm = LocalCluster.term(cluster.status(first));
        java.nio.file.Files.createFile(cluster.dir.resolve("run/crash-every-command"));
        cluster.observer.running().forEach(r -> {
            try {
                new ProcessBuilder("kill", "-KILL", "--", "-" + r.hostPid()).start().waitFor();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        // three crashes (the first and two restarts) within the window: the master gives up and hands over
        LocalCluster.await(() -> {
            for (String id : cluster.members.keySet()) {
                Map<String, Object> s = cluster.status(id);
                if (!id.equals(first) && "master".equals(LocalCluster.role(s)) && LocalCluster.term(s) > firstTerm) return true;
            }
            return false;
        }, ELECT, "another node to become master after " + first + "'s command crashed too often");
        Map<String, Object> s = cluster.status(first);
        assertEquals("follower", LocalCluster.role(s), first + " stepped down");
        assertTrue(cluster.logs().contains("failed too often"), "the log says why\n" + cluster.logs());
    }

    @Test
    void aPeerDownAtStartJoinsLater() throws Exception {
        cluster.start("n1");
        cluster.start("n2");
        String m = cluster.awaitMasterRunning(ELECT, null);
        cluster.start("n3");
        LocalCluster.await(() -> {
            Map<String, Object> s = cluster.status("n3");
            return "follower".equals(LocalCluster.role(s)) && m.equals(s.get("master"));
        }, ELECT, "n3 to join as follower");
        assertEquals(m, cluster.masterRunning());
    }

    @Test
    void wholeClusterRestart() throws Exception {
        cluster.startAll();
        String m = cluster.awaitMasterRunning(ELECT, null);
        long term = LocalCluster.term(cluster.status(m));
        for (String id : cluster.members.keySet()) cluster.stop(id, Duration.ofSeconds(10));
        assertTrue(cluster.observer.running().isEmpty(), "a graceful stop of every agent stops the command");
        cluster.startAll();
        String m2 = cluster.awaitMasterRunning(ELECT, null);
        assertTrue(LocalCluster.term(cluster.status(m2)) > term, "terms survive the restart");
    }

    /** The next master other than {@code old}, running its command within {@link #LIVENESS} of the fault at {@code faultNanos}. */
    private String awaitFailover(String old, long faultNanos) {
        Duration left = LIVENESS.minusNanos(System.nanoTime() - faultNanos);
        try {
            return cluster.awaitMasterRunning(left.isNegative() ? Duration.ZERO : left, old);
        } catch (AssertionError e) {
            throw new AssertionError("no master other than " + old + " ran its command within the liveness bound "
                    + LIVENESS.toMillis() + " ms (2t + stop_timeout (1 + 2ρ) + 2 s slack) of the fault: " + e.getMessage(), e);
        }
    }

    /**
     * {@code master} says in its status and its log what cleared it in {@code term}: {@code by}
     * (cleared_by), about {@code oldMaster} in {@code oldTerm}, and when: after the fault at
     * {@code faultNanos} (cleared_ms_ago, cleared_after_ms); its log line starts so.
     */
    private void assertCleared(String master, long term, long faultNanos, String by, String oldMaster, long oldTerm,
                               String logged) throws Exception {
        Map<String, Object> s = cluster.status(master);
        long sinceFaultMillis = (System.nanoTime() - faultNanos) / 1_000_000;
        assertTrue(s.get("cleared_ms_ago") instanceof Number, "status says when the master was cleared: " + s);
        long ago = ((Number) s.get("cleared_ms_ago")).longValue();
        assertTrue(ago >= 0 && ago <= sinceFaultMillis, "cleared " + ago + " ms ago, but the fault was " + sinceFaultMillis
                + " ms ago: the time must be this clearance's, after the fault: " + s);
        assertTrue(s.get("cleared_after_ms") instanceof Number && ((Number) s.get("cleared_after_ms")).longValue() >= 0,
                "status says how long after its election the master was cleared: " + s);
        if (by.equals("handover"))
            assertTrue(((Number) s.get("cleared_after_ms")).longValue() < 1000,
                    "a hand-over's proof comes with the election, not after a wait: " + s);
        assertEquals(term, LocalCluster.term(s), "still the master of term " + term + ": " + s);
        assertEquals(by, s.get("cleared_by"), s.toString());
        assertEquals(oldMaster, s.get("old_master"), s.toString());
        assertEquals(oldTerm, ((Number) s.get("old_master_term")).longValue(), s.toString());
        String line = "cleared to start the command in term " + term + " by " + logged;
        String log = Files.readString(cluster.log(master));
        assertTrue(log.contains(line), "the log of " + master + " lacks \"" + line + "\"\n" + log);
    }

    /** The node's state file, read and checked (format, CRC) as the agent reads it. */
    private TermState persisted(String id) {
        try {
            return new StateFile(cluster.member(id).stateDir).load();
        } catch (Exception e) {
            throw new AssertionError(id + "'s state file: " + e.getMessage(), e);
        }
    }

    /**
     * A lease {@code node} certainly held from {@code fromNanos} to {@code toNanos}, on the clock all
     * the agents and this test share (one host, CLOCK_MONOTONIC): a status answered between
     * {@code send} and {@code recv} with {@code lease_ms} L says the lease ends at or after send + L.
     * A paused master cannot shorten it: its last answer before the pause still holds.
     */
    record Held(String node, long term, long fromNanos, long toNanos) {
        boolean overlaps(Held o) {
            return Math.max(fromNanos, o.fromNanos) < Math.min(toNanos, o.toNanos);
        }

        @Override
        public String toString() {
            return node + "(term " + term + ", lease held over [" + fromNanos / 1_000_000 + ", " + toNanos / 1_000_000 + "] ms)";
        }
    }

    /** Asks {@code id} once; null unless it answers as master with a lease. */
    private Held heldLease(String id) {
        long send = System.nanoTime();
        Map<String, Object> s = cluster.status(id);
        long recv = System.nanoTime();
        if (!"master".equals(LocalCluster.role(s)) || !(s.get("lease_ms") instanceof Number n) || n.longValue() <= 0) return null;
        return new Held(id, LocalCluster.term(s), recv, send + n.longValue() * 1_000_000);
    }

    @SuppressWarnings("unchecked")
    private static String commandOrNone(Map<String, Object> s) {
        String st = LocalCluster.commandState(s);
        return st == null || st.equals("idle") || st.equals("stopped") ? "none" : st;
    }
}
