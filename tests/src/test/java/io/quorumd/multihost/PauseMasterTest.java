package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.it.CommandObserver.Run;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * `docker pause` freezes the master's whole host (agent, watchdog and command) for longer than
 * the lease. A frozen host executes nothing, so its command formally runs on; SPEC ("How tests
 * judge exclusivity") asks instead that after the thaw its group is gone within 100 ms (the
 * watchdog's deadlines have passed) and that its QUORUMD_TERM is lower than the new master's.
 * Every other pair of runs must not overlap at all.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class PauseMasterTest {
    private static final long THAW_WINDOW_MILLIS = 100;

    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void afterTheThawTheOldCommandIsGoneWithin100msAndHasALowerTerm() throws InterruptedException {
        try (Cluster c = Cluster.start("pause", 3)) {
            Run master = c.awaitSingleMaster();
            Node old = c.nodeOf(master);
            long frozen = c.pause(old);
            Run next = c.awaitRunStartedAfter(frozen, r -> !r.node().equals(old.id), "a new master while the old one is frozen");
            c.report("docker pause of master " + master + ": " + next + " ran its command "
                    + Cluster.ms(next.startNanos() - frozen) + " ms after the freeze");
            // frozen for clearly longer than the lease + stop_timeout
            long minimumFreeze = frozen + Duration.ofMillis(3 * (Cluster.LEASE_MILLIS + Cluster.STOP_TIMEOUT_MILLIS)).toNanos();
            while (System.nanoTime() < minimumFreeze) {
                Thread.sleep(20);
            }
            long thawed = c.unpause(old);
            Run gone = c.awaitGone(master, Duration.ofSeconds(5));
            long windowMillis = Cluster.ms(gone.goneNanos() - thawed);
            c.report("frozen " + Cluster.ms(thawed - frozen) + " ms: the old command's group was gone " + windowMillis
                    + " ms after the unpause returned (last seen alive " + Cluster.ms(gone.lastSeenNanos() - thawed)
                    + " ms; observer tick " + Cluster.ms(c.observer.tickNanos()) + " ms)");
            assertTrue(gone.lastSeenNanos() - thawed <= Duration.ofMillis(THAW_WINDOW_MILLIS).toNanos(),
                    "the frozen master's command was still alive " + Cluster.ms(gone.lastSeenNanos() - thawed)
                            + " ms after the thaw (at most " + THAW_WINDOW_MILLIS + " ms)");
            assertTrue(master.term() < next.term(), "fencing: the frozen master's term " + master.term()
                    + " must be lower than the new master's " + next.term());

            c.assertStatusAgrees(next, c.nodes);
            assertEquals(List.of(next.hostPid()), c.observer.running().stream().map(Run::hostPid).toList(),
                    "after the thaw the old master must follow");
            c.assertExclusive(r -> r.hostPid() == master.hostPid() && r.node().equals(master.node()));
        }
    }
}
