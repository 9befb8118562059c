package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.it.CommandObserver.Run;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.testcontainers.containers.Container.ExecResult;

/**
 * Three hosts: exactly one master runs the command, every status and `quorumd leader` agrees,
 * and `systemctl stop` on the master hands mastership over gracefully.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class ExclusiveMasterTest {
    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void exactlyOneMasterRunsTheCommandAndAStopHandsOver() throws InterruptedException {
        try (Cluster c = Cluster.start("exclusive", 3, Map.of("hooks", Cluster.LOGGING_HOOKS))) {
            Run master = c.awaitSingleMaster();
            c.report("first master " + master + " ran its command " + Cluster.ms(master.startNanos() - c.t0)
                    + " ms after the cluster was created");

            // steady state: the same single command for 3 s
            long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (System.nanoTime() < until) {
                List<Run> live = c.observer.running();
                assertEquals(1, live.size(), "exactly one command must run: " + live);
                assertEquals(master.hostPid(), live.get(0).hostPid(), "the master's command must keep running");
                Thread.sleep(50);
            }

            c.assertStatusAgrees(master, c.nodes);
            Map<String, Object> s = c.nodeOf(master).status();
            for (String key : new String[] {"cluster", "node", "role", "term", "master", "lease_ms", "peers", "command", "dropped"}) {
                assertTrue(s.containsKey(key), "status --json lacks " + key + ": " + s);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> command = (Map<String, Object>) s.get("command");
            assertEquals(master.nsPid(), ((Number) command.get("pid")).longValue(), "status shows the command's pid: " + s);
            assertEquals(master.term(), ((Number) command.get("term")).longValue(), "status shows the command's term: " + s);
            List<Object> peerIds = ((List<?>) s.get("peers")).stream()
                    .map(p -> ((Map<?, ?>) p).get("id")).map(Object.class::cast).toList();
            for (Node other : c.others(c.nodeOf(master))) {
                assertTrue(peerIds.contains(other.id), "status lists every peer: " + s);
            }
            for (Node n : c.nodes) {
                ExecResult leader = n.exec("quorumd", "leader");
                assertEquals(0, leader.getExitCode(), n.id + ": quorumd leader: " + leader.getStderr());
                assertEquals(master.node(), leader.getStdout().trim(), n.id + ": quorumd leader");
            }

            // graceful stop of the master: hand-over, then the next master's command
            Node old = c.nodeOf(master);
            long t = System.nanoTime();
            old.execOk("systemctl", "stop", "quorumd");
            long stopped = System.nanoTime();
            Run gone = c.awaitGone(master, Duration.ofSeconds(5));
            Run next = c.awaitRunStartedAfter(t, r -> !r.node().equals(old.id), "a new master after systemctl stop");
            c.report("systemctl stop of the master: old command gone after " + Cluster.ms(gone.goneNanos() - t)
                    + " ms, next master " + next + " ran its command " + Cluster.ms(next.startNanos() - gone.lastSeenNanos())
                    + " ms after the old one was last seen (fault to command: " + Cluster.ms(next.startNanos() - t)
                    + " ms; target p99 < 50 ms plus the command's stop); stop returned after " + Cluster.ms(stopped - t) + " ms");
            assertTrue(next.term() > master.term());
            // a hand-over, not a wait: the new master says so, and it did not sit out the old lease
            Map<String, Object> cleared = c.clearance(next);
            assertEquals("handover", cleared.get("cleared_by"), "systemctl stop must hand over: " + cleared);
            assertEquals(old.id, cleared.get("old_master"), cleared.toString());
            assertEquals(master.term(), cleared.get("old_master_term"), cleared.toString());
            long failoverMillis = Cluster.ms(next.startNanos() - t);
            assertTrue(failoverMillis < KillMasterTest.NO_PROOF_MIN_MILLIS, "the hand-over took " + failoverMillis
                    + " ms, as long as a fail-over without proof (" + KillMasterTest.NO_PROOF_MIN_MILLIS + " ms or more)");

            // hooks run by the real agents, one at a time in the order of the role changes; the
            // old master's on_follower ran to its end although its agent stopped right after it
            String oldTerm = Long.toString(master.term());
            Cluster.await("the new master's on_master hook to finish", Duration.ofSeconds(10),
                    () -> firstStartingWith(c.hookLines(c.nodeOf(next)), "done master " + next.term() + " ") >= 0,
                    () -> c.hookLines(c.nodeOf(next)).toString());
            List<String> oldHooks = c.hookLines(old);
            int masterStart = firstStartingWith(oldHooks, "start master " + oldTerm + " ");
            assertTrue(masterStart >= 0, old.id + " ran on_master for term " + oldTerm + ": " + oldHooks);
            List<String> after = oldHooks.subList(masterStart, oldHooks.size());
            assertEquals(4, after.size(), old.id + ": on_master then on_follower, each started and done: " + oldHooks);
            String[] expected = {"start master", "done master", "start follower", "done follower"};
            for (int i = 0; i < 4; i++) {
                assertTrue(after.get(i).startsWith(expected[i] + " "), old.id + ": hook line " + i + " after becoming master: "
                        + after + " (expected " + String.join(", ", expected) + ": one at a time, on_follower not killed by the stop)");
            }

            // the old master comes back as a follower: nothing changes
            old.execOk("systemctl", "start", "quorumd");
            c.assertStatusAgrees(next, c.nodes);
            assertEquals(List.of(next.hostPid()), c.observer.running().stream().map(Run::hostPid).toList(),
                    "a returning node must not disturb the master");
            c.assertExclusive();
        }
    }

    /** The index of the first line starting with {@code prefix}, or -1. */
    private static int firstStartingWith(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) return i;
        }
        return -1;
    }
}
