package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.it.CommandObserver.Run;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Five hosts split 2|3 with the master on the minority side, first by iptables DROP between the
 * sides (silence), then, after healing, by REJECT (every connection refused, as a firewall's
 * REJECT rule does), inside every container, both directions. The minority cannot renew the
 * lease: its master stops its command; the majority elects a master that starts only after
 * the old lease plus stop_timeout, a refused connection being no proof. After each heal, one
 * master for all five.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class PartitionTest {
    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void theMajoritySideTakesOverAndTheMinorityMasterStops() {
        try (Cluster c = Cluster.start("partition", 5)) {
            // DROP: the far side is silent
            Run master = c.awaitSingleMaster();
            Run next = splitAndTakeOver(c, master, false);
            c.healPartition();
            Run healed = c.awaitSingleMaster();
            c.report("after healing: master " + healed);
            c.assertStatusAgrees(healed, c.nodes);

            // REJECT: the far side refuses every connection (a firewall's REJECT rule). A refused
            // connection may start an election early but is no proof that the old master's command
            // stopped: the new master still waits out the old lease plus stop_timeout
            Run second = splitAndTakeOver(c, healed, true);
            Map<String, Object> cleared = c.clearance(second);
            assertEquals("lease_expiry", cleared.get("cleared_by"), "a refused connection is no proof: " + cleared);
            c.healPartition();
            Run last = c.awaitSingleMaster();
            c.report("after healing again: master " + last + " (first split's master " + next + ")");
            c.assertStatusAgrees(last, c.nodes);
            c.assertExclusive();
        }
    }

    /**
     * Splits 2|3 with {@code master} on the minority side; returns the majority's new master,
     * after checking that the old command stopped first, that the new one waited for the old lease
     * plus stop_timeout, and that no command ran on the minority side while split.
     */
    private static Run splitAndTakeOver(Cluster c, Run master, boolean reject) {
        Node old = c.nodeOf(master);
        List<Node> minority = new ArrayList<>(List.of(old, c.others(old).get(0)));
        List<Node> majority = new ArrayList<>(c.nodes);
        majority.removeAll(minority);
        String how = reject ? "REJECT" : "DROP";
        long fault = c.partition(minority, majority, reject);
        Run gone = c.awaitGone(master, Duration.ofSeconds(10));
        Run next = c.awaitRunStartedAfter(fault, r -> majority.stream().anyMatch(n -> n.id.equals(r.node())),
                "a new master on the majority side");
        long failoverMillis = Cluster.ms(next.startNanos() - fault);
        c.report("2|3 partition (" + how + ") " + minority + " | " + majority + ": old command gone " + Cluster.ms(gone.goneNanos() - fault)
                + " ms after the split, " + next + " ran its command " + failoverMillis + " ms after it");
        assertTrue(next.term() > master.term());
        assertTrue(next.startNanos() >= gone.lastSeenNanos(), how + ": the new command started before the old one was last seen");
        assertTrue(failoverMillis >= KillMasterTest.NO_PROOF_MIN_MILLIS, how + ": the new master started " + failoverMillis
                + " ms after the split, sooner than the old lease plus stop_timeout (" + KillMasterTest.NO_PROOF_MIN_MILLIS + " ms)");
        c.assertStatusAgrees(next, majority);
        // the minority stays without a command while split: the observer records every run it sees
        // (it samples the containers' cgroups continuously), so this covers the whole split so far
        long now = System.nanoTime();
        for (Run r : c.observer.runs()) {
            boolean onMinority = minority.stream().anyMatch(n -> n.id.equals(r.node()));
            assertFalse(onMinority && r.endNanos(now) > fault && r.hostPid() != master.hostPid(),
                    how + ": " + r + " ran on the minority side while split");
        }
        return next;
    }
}
