package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
 * {@code timing.preempt_delay} on real packages under systemd: n3 (priority 300) is started after
 * n1 and n2 (priority 100) elected a master and it runs its command. After the delay n3 asks that
 * master to hand over, which it does the way {@code quorumd step-down --to n3} would: n3's command
 * starts cleared by {@code handover} of the old master, never before the delay has passed since
 * n3's agent was started, with no overlap of the command groups (judged from each unit's cgroup),
 * and n3 stays master for two more delays (the old master, of a lower priority, never asks back).
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class PreemptTest {
    static final long DELAY_MILLIS = 3000;

    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void aHigherPriorityHostStartedLastTakesOverByHandOverAfterTheDelay() throws InterruptedException {
        Cluster c = Cluster.boot("preempt", 3);
        try {
            c.priorities.putAll(Map.of("n1", 100, "n2", 100, "n3", 300));
            c.preemptDelay = DELAY_MILLIS + "ms";
            c.install();
            c.keygenAll();
            c.configureAll();
            Node n3 = c.node("n3");
            for (Node n : c.nodes) if (n != n3) c.startAgent(n);
            Run first = c.awaitSingleMaster();
            assertNotEquals("n3", first.node());
            long started = System.nanoTime();
            c.startAgent(n3);
            Run next = c.awaitRunStartedAfter(started, r -> r.node().equals("n3"), "n3's command after preempt_delay");
            long afterMillis = Cluster.ms(next.startNanos() - started);
            c.report("preempt_delay " + DELAY_MILLIS + " ms: n3 (priority 300) ran its command " + afterMillis
                    + " ms after its agent was started, under " + first);
            assertTrue(afterMillis >= DELAY_MILLIS, "n3 took over " + afterMillis + " ms after its start, before the delay");
            Map<String, Object> cleared = c.clearance(next);
            assertEquals("handover", cleared.get("cleared_by"), "preemption is a hand-over: " + cleared);
            assertEquals(first.node(), cleared.get("old_master"), cleared.toString());
            assertTrue(cleared.get("cleared_ms_ago") instanceof Number n && n.longValue() >= 0
                    && cleared.get("cleared_after_ms") instanceof Number a && a.longValue() < 1000,
                    "status says when: cleared with its election, by the proof it came with: " + cleared);
            assertEquals(first.term() + 1, next.term(), "one hand-over, no election in between");
            assertTrue(c.journal(c.node(first.node()), 200).contains("preempted by n3 (priority 300 > 100)"),
                    () -> c.journal(c.node(first.node()), 60));
            Thread.sleep(2 * DELAY_MILLIS);
            assertEquals(List.of(next.hostPid()), c.observer.running().stream().map(Run::hostPid).toList(),
                    "n3 stays master: the lower-priority old master never asks back");
            c.assertStatusAgrees(next, c.nodes);
            c.assertExclusive();
        } finally {
            c.close();
        }
    }
}
