package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.it.CommandObserver.Run;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Every host restarts at once (`docker restart`: systemd halts, the agents stop, the hosts boot
 * and the enabled unit starts). Term and vote survive in /var/lib/quorumd, so the next master's
 * term is higher than any before.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class RestartAllTest {
    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void aftereveryHostRestartsOneMasterRunsWithAHigherTerm() {
        try (Cluster c = Cluster.start("restart", 3)) {
            Run before = c.awaitSingleMaster();
            long fault = c.restartAll();
            Run after = c.awaitRunStartedAfter(fault, r -> true, "a master after every host restarted");
            c.report("restart of every host: " + after + " ran its command " + Cluster.ms(after.startNanos() - fault)
                    + " ms after docker restart was called");
            assertTrue(after.term() > before.term(), "terms must survive restarts: " + before + " then " + after);
            Run settled = c.awaitSingleMaster();
            c.assertStatusAgrees(settled, c.nodes);
            c.assertExclusive();
        }
    }
}
