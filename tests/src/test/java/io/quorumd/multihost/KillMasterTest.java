package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.multihost.CommandObserver.Run;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * `docker kill` of the master's container: the host is gone with its command, and nothing proves
 * it, so the next master waits out the old lease plus stop_timeout (never sooner). The killed
 * host then boots again and rejoins as a follower.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class KillMasterTest {
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
            long failoverMs = Cluster.ms(next.startNanos() - fault);
            c.report("docker kill of master " + master + ": " + next + " ran its command " + failoverMs
                    + " ms later (target <= lease " + Cluster.LEASE_MS + " + stop_timeout " + Cluster.STOP_TIMEOUT_MS
                    + " + 100 ms; SPEC liveness bound " + Cluster.LIVENESS_MS + " ms)");
            // no proof that the old command stopped: at least stop_timeout must pass
            assertTrue(failoverMs >= Cluster.STOP_TIMEOUT_MS, "the new master started after " + failoverMs
                    + " ms, sooner than stop_timeout without any proof that the old command stopped");
            assertTrue(next.term() > master.term());
            c.assertStatusAgrees(next, c.others(old));

            c.startAgain(old);
            // every node, the restarted one included, follows the same master: then it is sticky
            // to it and cannot disturb it; the observer's history shows whether anything changed
            c.assertStatusAgrees(next, c.nodes);
            assertEquals(List.of(next.hostPid()), c.observer.live().stream().map(Run::hostPid).toList(),
                    "the restarted host must rejoin as a follower");
            c.assertExclusive();
        }
    }
}
