package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.it.CommandObserver.Run;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The master's agent dies by SIGKILL and systemd restarts it (Restart=on-failure, RestartSec=0):
 * the unit's cgroup takes the command down with the agent, and the restarted agent's restart
 * certificate lets the next master start without waiting out the lease (SPEC target: p99 under
 * 500 ms from the kill to the next master's command).
 *
 * <p>The certificate is asserted by what the new master says it used ({@code cleared_by} in its
 * status, and its log line), about the killed master and the term of its command. A restarted
 * agent that comes up after the next master was elected is too late to certify: that round must
 * then say {@code lease_expiry} and have waited at least the no-proof bound; at least one of the
 * three rounds must use the certificate. The time is
 * reported beside the bound no fail-over without proof can beat (lease + stop_timeout − heartbeat
 * from the kill: a voter last heard the old master at most a heartbeat before it), but not
 * asserted against it: the certificate only exists once the restarted JVM is up, and with two
 * clusters booting side by side on a 2-core CI machine that took up to 2 s (a CI run saw 2165 ms
 * with the certificate used), so a time bound here would judge the machine, not the proof.
 * {@code make bench} measures the time.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class AgentCrashTest {
    /**
     * The command's stop_timeout here: 4 s rather than the other tests' 1 s, so that a restarted
     * agent whose JVM takes 2-3 s to start on a loaded CI machine (a run saw 2.4-2.9 s in all three
     * rounds with 1 s) can still certify before the wait without proof ends: the test is about the
     * certificate being used, not about how fast the machine starts a JVM ({@code make bench}).
     */
    static final long STOP_TIMEOUT_MILLIS = 4000;
    /** No fail-over without proof is shorter, from the kill (see the class comment). */
    static final long NO_PROOF_MIN_MILLIS = Cluster.LEASE_MILLIS + STOP_TIMEOUT_MILLIS - Cluster.HEARTBEAT_MILLIS;

    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void aKilledMasterAgentIsRestartedAndItsCertificateSpeedsTheFailOver() {
        try (Cluster c = Cluster.boot("crash", 3)) {
            c.stopTimeoutMillis = STOP_TIMEOUT_MILLIS;
            c.install();
            c.keygenAll();
            c.configureAll();
            c.startAgents();
            int certified = 0;
            for (int round = 1; round <= 3; round++) {
                Run master = c.awaitSingleMaster();
                Node node = c.nodeOf(master);
                String mainPid = node.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
                long t = System.nanoTime();
                node.execOk("kill", "-KILL", mainPid);
                Run gone = c.awaitGone(master, Duration.ofSeconds(5));
                Run next = c.awaitRunStartedAfter(t, r -> true, "the next master after the agent's crash");
                c.report("round " + round + ": agent of master " + master + " SIGKILLed: command group empty "
                        + Cluster.ms(gone.goneNanos() - t) + " ms later; " + next + " ran its command "
                        + Cluster.ms(next.startNanos() - t) + " ms after the kill (target p99 < 500 ms; without the certificate "
                        + (Cluster.LEASE_MILLIS + STOP_TIMEOUT_MILLIS) + " ms or more)");
                assertTrue(gone.goneNanos() - t < Duration.ofSeconds(2).toNanos(),
                        "the command outlived its SIGKILLed agent by " + Cluster.ms(gone.goneNanos() - t) + " ms");
                assertTrue(next.term() > master.term());
                Map<String, Object> cleared = c.clearance(next);
                c.report("round " + round + ": " + next.node() + " says it was cleared by " + cleared.get("cleared_by")
                        + " of " + cleared.get("old_master") + " (term " + cleared.get("old_master_term") + ")");
                assertEquals(master.node(), cleared.get("old_master"), "the clearance is about the killed master: " + cleared);
                assertEquals(master.term(), cleared.get("old_master_term"), "for the term of its command: " + cleared);
                long failoverMillis = Cluster.ms(next.startNanos() - t);
                if ("certificate".equals(cleared.get("cleared_by"))) {
                    certified++;
                    c.report("round " + round + ": " + failoverMillis + " ms with the certificate; no fail-over without proof"
                            + " is shorter than " + NO_PROOF_MIN_MILLIS + " ms");
                } else {
                    // the restarted agent came up after the next master was elected: it waited, as it must
                    assertEquals("lease_expiry", cleared.get("cleared_by"), "neither the certificate nor the wait: " + cleared);
                    assertTrue(failoverMillis >= NO_PROOF_MIN_MILLIS, "round " + round + ": without the certificate the new master"
                            + " started after " + failoverMillis + " ms, sooner than lease + stop_timeout allows");
                    c.report("round " + round + ": the restarted agent came up too late to certify; the new master waited"
                            + " out the lease (" + failoverMillis + " ms)");
                }
                c.awaitAgentActive(node);
            }
            assertTrue(certified > 0, "no round's next master used the restart certificate");
            c.assertStatusAgrees(c.awaitSingleMaster(), c.nodes);
            c.assertExclusive();
        }
    }
}
