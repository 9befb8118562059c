package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.it.CommandObserver.Run;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * `docker kill` of the master's container: the host is gone with its command, and nothing proves
 * it, so the next master waits out the old lease plus stop_timeout (never sooner), and says so
 * ({@code cleared_by: lease_expiry} in its status, and its log). The killed host then boots again
 * and rejoins as a follower.
 *
 * <p>The bound, from the kill: the old lease runs lease ms from the newest keep-alive a majority
 * echoed, which the old master sent at most a heartbeat before the kill; the new command may
 * start only stop_timeout after that lease's end. So the fail-over is at least
 * lease + stop_timeout − heartbeat from the kill (the agent in fact waits
 * {@code t + stop_timeout (1+ρ)/(1−ρ) + 25 ms} from the last keep-alive its voters heard, a little more).
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class KillMasterTest {
    /** The least a fail-over without proof takes, from the kill (see the class comment). */
    static final long NO_PROOF_MIN_MILLIS = Cluster.LEASE_MILLIS + Cluster.STOP_TIMEOUT_MILLIS - Cluster.HEARTBEAT_MILLIS;

    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void theNextMasterTakesOverAfterLeasePlusStopTimeout() throws InterruptedException {
        try (Cluster c = Cluster.start("kill", 3)) {
            Run master = c.awaitSingleMaster();
            Node old = c.nodeOf(master);
            long fault = c.kill(old);
            Run next = c.awaitRunStartedAfter(fault, r -> !r.node().equals(old.id), "a new master after docker kill");
            long failoverMillis = Cluster.ms(next.startNanos() - fault);
            c.report("docker kill of master " + master + ": " + next + " ran its command " + failoverMillis
                    + " ms later (target <= lease " + Cluster.LEASE_MILLIS + " + stop_timeout " + Cluster.STOP_TIMEOUT_MILLIS
                    + " + 100 ms; SPEC liveness bound " + Cluster.LIVENESS_MILLIS + " ms)");
            // no proof that the old command stopped: the old lease and then stop_timeout must pass
            Map<String, Object> cleared = c.clearance(next);
            c.report("docker kill of master " + master + ": " + next.node() + " says it was cleared by "
                    + cleared.get("cleared_by") + " of " + cleared.get("old_master") + " (term " + cleared.get("old_master_term") + ")");
            assertEquals("lease_expiry", cleared.get("cleared_by"), "a killed host offers no proof: " + cleared);
            assertEquals(old.id, cleared.get("old_master"), "the wait was for the killed master's lease: " + cleared);
            assertEquals(master.term(), cleared.get("old_master_term"), cleared.toString());
            assertTrue(failoverMillis >= NO_PROOF_MIN_MILLIS, "the new master started after " + failoverMillis
                    + " ms, sooner than lease + stop_timeout (" + NO_PROOF_MIN_MILLIS + " ms from the kill, see the class"
                    + " comment) without any proof that the old command stopped");
            assertTrue(failoverMillis <= Cluster.LIVENESS_MILLIS + Cluster.PATIENCE.toMillis(), failoverMillis + " ms");
            assertTrue(next.term() > master.term());
            c.assertStatusAgrees(next, c.others(old));

            c.startAgain(old);
            // every node, the restarted one included, follows the same master: then it is sticky
            // to it and cannot disturb it; the observer's history shows whether anything changed
            c.assertStatusAgrees(next, c.nodes);
            assertEquals(List.of(next.hostPid()), c.observer.running().stream().map(Run::hostPid).toList(),
                    "the restarted host must rejoin as a follower");
            c.assertExclusive();
        }
    }
}
