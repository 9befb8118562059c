package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.multihost.CommandObserver.Run;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Five hosts split 2|3 with the master on the minority side (iptables DROP between the sides,
 * inside every container, both directions). The minority cannot renew the lease: its master
 * stops its command; the majority elects a master that starts only after that. After healing,
 * one master for all five.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class PartitionTest {
    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void theMajoritySideTakesOverAndTheMinorityMasterStops() throws InterruptedException {
        try (Cluster c = Cluster.start("partition", 5)) {
            Run master = c.awaitSingleMaster();
            Node old = c.nodeOf(master);
            List<Node> minority = new ArrayList<>(List.of(old, c.others(old).get(0)));
            List<Node> majority = new ArrayList<>(c.nodes);
            majority.removeAll(minority);
            long fault = c.partition(minority, majority);
            Run gone = c.awaitGone(master, Duration.ofSeconds(10));
            Run next = c.awaitRunStartedAfter(fault, r -> majority.stream().anyMatch(n -> n.id.equals(r.node())),
                    "a new master on the majority side");
            c.report("2|3 partition " + minority + " | " + majority + ": old command gone " + Cluster.ms(gone.goneNanos() - fault)
                    + " ms after the split, " + next + " ran its command " + Cluster.ms(next.startNanos() - fault) + " ms after it");
            assertTrue(next.term() > master.term());
            // the minority stays without a command while split
            Thread.sleep(2 * Cluster.ELECTION_TIMEOUT_MS);
            for (Node n : minority) {
                assertTrue(c.liveOn(n).isEmpty(), n.id + " runs a command on the minority side");
            }
            c.assertStatusAgrees(next, majority);

            c.healPartition();
            Run healed = c.awaitSingleMaster();
            c.report("after healing: master " + healed);
            c.assertStatusAgrees(healed, c.nodes);
            c.assertExclusive();
        }
    }
}
