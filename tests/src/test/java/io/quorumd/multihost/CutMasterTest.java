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
 * The master is cut off the network (`ip link set eth0 down` inside its container): it loses
 * quorum and stops its command when its lease runs out; the others elect a new master that
 * waits for the old lease plus stop_timeout. No overlap at all. The link comes back and the old
 * master rejoins as a follower.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class CutMasterTest {
    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void aCutOffMasterStopsItsCommandBeforeTheNextOneStarts() throws InterruptedException {
        try (Cluster c = Cluster.startTrusted("cut", 3)) { // the one scenario in trusted mode (no keys)
            Run master = c.awaitSingleMaster();
            Node old = c.nodeOf(master);
            long fault = c.cut(old);
            Run gone = c.awaitGone(master, Duration.ofSeconds(10));
            Run next = c.awaitRunStartedAfter(fault, r -> !r.node().equals(old.id), "a new master after the cut");
            c.report("master " + master + " cut off: its command was gone " + Cluster.ms(gone.goneNanos() - fault)
                    + " ms after the cut (lease " + Cluster.LEASE_MILLIS + " ms, then stop); " + next + " ran its command "
                    + Cluster.ms(next.startNanos() - fault) + " ms after the cut, "
                    + Cluster.ms(next.startNanos() - gone.lastSeenNanos()) + " ms after the old one was last seen");
            assertTrue(next.startNanos() > gone.lastSeenNanos(), "the new master started while the cut-off one still ran");
            assertTrue(next.term() > master.term());

            c.heal(old);
            c.assertStatusAgrees(next, c.nodes);
            assertEquals(List.of(next.hostPid()), c.observer.running().stream().map(Run::hostPid).toList(),
                    "after the link comes back there is still exactly the one master");
            c.assertExclusive();
        }
    }
}
