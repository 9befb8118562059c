package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.it.CommandObserver.Run;
import io.quorumd.multihost.Cluster.Node;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * {@code timing.preempt_delay} on the installed package: the preferred host (priority 200 against
 * the default 100) joins a cluster whose master the other two elected; once it has been healthy and
 * in contact for the delay, it takes over by a graceful hand-over (the old command stops first, the
 * new master says {@code cleared_by: handover} of the old one), never sooner than the delay, and
 * then nothing moves again (no flapping).
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class PreemptionTest {
    static final long PREEMPT_DELAY_MILLIS = 3000;

    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void thePreferredHostTakesOverByHandOverAfterTheDelay() throws InterruptedException {
        try (Cluster c = Cluster.boot("preempt", 3)) {
            Node preferred = c.node("n1");
            c.priority(preferred.id, 200);
            c.timing("preempt_delay: " + PREEMPT_DELAY_MILLIS + "ms");
            c.install();
            c.keygenAll();
            c.configureAll();
            for (Node n : c.others(preferred)) n.execOk("systemctl", "start", "quorumd");
            Run first = c.awaitSingleMaster();
            assertTrue(!first.node().equals(preferred.id));

            long joined = System.nanoTime();
            preferred.execOk("systemctl", "start", "quorumd");
            Run next = c.awaitRunStartedAfter(joined, r -> true, "a command after the preferred host joined");
            long afterMillis = Cluster.ms(next.startNanos() - joined);
            Map<String, Object> cleared = c.clearance(next);
            c.report("priority 200 joined a cluster with master " + first + ": " + next + " ran its command " + afterMillis
                    + " ms after `systemctl start` (preempt_delay " + PREEMPT_DELAY_MILLIS + " ms); cleared by " + cleared);
            assertEquals(preferred.id, next.node(), "the higher-priority host preempts");
            assertEquals("handover", cleared.get("cleared_by"), "a preemption is a graceful hand-over: " + cleared);
            assertEquals(first.node(), cleared.get("old_master"), cleared.toString());
            assertTrue(afterMillis >= PREEMPT_DELAY_MILLIS, "preempted after " + afterMillis + " ms, before its "
                    + PREEMPT_DELAY_MILLIS + " ms of health and contact");
            assertTrue(afterMillis <= PREEMPT_DELAY_MILLIS + Cluster.PATIENCE.toMillis(), afterMillis + " ms");
            Run gone = c.awaitGone(first, java.time.Duration.ofSeconds(5));
            assertTrue(gone.goneNanos() <= next.startNanos(), "the old command was gone before the new one started");
            c.assertStatusAgrees(next, c.nodes);

            // no flapping: the preferred host stays master; no other command starts for a while
            long settled = System.nanoTime();
            Thread.sleep(2 * PREEMPT_DELAY_MILLIS);
            List<Run> later = c.observer.runs().stream().filter(r -> r.firstSeenNanos() >= settled).toList();
            assertEquals(List.of(), later, "nothing may start once the preferred host is master");
            assertEquals(List.of(next.hostPid()), c.observer.running().stream().map(Run::hostPid).toList());
            c.assertExclusive();
        }
    }
}
