package io.quorumd.command;

import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.liveMembers;
import static io.quorumd.command.TestSupport.ms;
import static io.quorumd.command.TestSupport.readOrEmpty;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quorumd.core.Event;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog when the agent itself dies or stops: a stand-in agent JVM ({@link AgentStandIn})
 * runs a command under a renewed lease and is killed with SIGKILL or paused with SIGSTOP; the
 * command's group must end all the same, and a restarted agent's certificate must say so.
 *
 * <p>Not in {@code make mutation}'s tests (excludedTestClasses in the mutation profile): the
 * supervisor and the watchdog's feeder run in the stand-in's own JVM, which loads the classes
 * from disk, so PIT's mutants never reach them; each test starts a JVM, which is the slowest
 * thing in the command package's tests.
 */
class AgentDeathTest {
    private static final Duration LONG = TestSupport.PATIENCE;

    @Test
    void killingTheAgentWithSigkillStopsTheWholeGroup(@TempDir Path dir) throws Exception {
        // The job ignores TERM: only the watchdog's SIGKILL after stop_timeout (300 ms) ends it.
        // The lease (3 s) is renewed every 100 ms, so only the end of the watchdog's input can act
        // this soon.
        Measured m = killAgent(dir, "trap '' TERM; sleep 1000 & sleep 1000 & wait", 300, 3, 31);
        // before the renewed lease (3 s) could have run out: the agent's death itself acted
        assertTrue(m.emptyAfterNanos < TimeUnit.MILLISECONDS.toNanos(2500),
                "group empty " + ms(m.emptyAfterNanos) + " ms after kill -9 of the agent");
        assertTrue(m.emptyAfterNanos >= TimeUnit.MILLISECONDS.toNanos(300 - 20),
                "SIGKILL before stop_timeout: " + ms(m.emptyAfterNanos) + " ms");
        assertTrue(m.watchdogLog.contains("agent gone"), m.watchdogLog);
        assertTrue(m.watchdogLog.contains("SIGKILL sent"), m.watchdogLog);
        System.out.printf("measured: kill -9 of the agent, TERM ignored, stop_timeout 300 ms: group empty after"
                + " %d ms%n", ms(m.emptyAfterNanos));
    }

    @Test
    void killingTheAgentStopsAGroupThatHonoursTermAtOnce(@TempDir Path dir) throws Exception {
        Measured m = killAgent(dir, "sleep 1000 & sleep 1000 & wait", 5000, 3, 32);
        // before the lease (3 s) or stop_timeout (5 s) could have acted: TERM at the agent's death
        assertTrue(m.emptyAfterNanos < TimeUnit.MILLISECONDS.toNanos(2500),
                "group empty " + ms(m.emptyAfterNanos) + " ms after kill -9 of the agent");
        assertTrue(m.watchdogLog.contains("signal 15 sent"), m.watchdogLog);
        System.out.printf("measured: kill -9 of the agent, TERM honoured: group empty after %d ms%n",
                ms(m.emptyAfterNanos));
    }

    record Measured(long emptyAfterNanos, String watchdogLog) {}

    /** A stand-in agent JVM running {@code script} under a renewed lease, and its command's group. */
    private record StandIn(Process agent, int pgid, BufferedReader out) {}

    private static StandIn standIn(Path dir, String script, long stopTimeoutMillis, long leaseMillis, int expectedMembers,
            long term) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), AgentStandIn.class.getName(), dir.toString(),
                Long.toString(stopTimeoutMillis), Long.toString(leaseMillis), Long.toString(term), script));
        Process agent = new ProcessBuilder(cmd).redirectError(dir.resolve("agent.err").toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8));
        int pgid = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (pgid < 0 && System.nanoTime() < deadline) {
            String line = out.readLine();
            if (line == null) {
                agent.destroyForcibly();
                fail("the stand-in agent ended: " + readOrEmpty(dir.resolve("agent.err")));
            }
            if (line.startsWith("RUNNING ")) {
                pgid = Integer.parseInt(line.substring(8).trim());
            }
        }
        int group = pgid;
        await("the command's group runs", LONG, () -> liveMembers(group).size() == expectedMembers);
        return new StandIn(agent, pgid, out);
    }

    /** Polls until the group has no live process; the time that took from {@code t0}. */
    private static long emptyAfter(int pgid, long t0) {
        while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
            if (liveMembers(pgid).isEmpty()) {
                return System.nanoTime() - t0;
            }
            TestSupport.sleepMillis(2);
        }
        fail("group " + pgid + " still has " + liveMembers(pgid) + " 10 s on");
        return 0;
    }

    private static Measured killAgent(Path dir, String script, long stopTimeoutMillis, int expectedMembers, long term)
            throws Exception {
        StandIn s = standIn(dir, script, stopTimeoutMillis, 3000, expectedMembers, term);
        try {
            RestartCertificate.Result before = RestartCertificate.check(dir);
            assertEquals(RestartCertificate.Verdict.GROUP_ALIVE, before.verdict(), before.detail());

            long t0 = System.nanoTime();
            assertEquals(Signals.Delivery.SENT, Signals.kill((int) s.agent().pid(), Signals.SIGKILL));
            long took = emptyAfter(s.pgid(), t0);
            assertEquals(137, s.agent().waitFor());

            // what the restarted agent would find before its first keep-alive
            RestartCertificate.Result cert = RestartCertificate.await(dir, System.nanoTime() + LONG.toNanos());
            assertEquals(RestartCertificate.Verdict.CERTIFIED, cert.verdict(), cert.detail());
            assertEquals(term, cert.lastCommandTerm());
            assertEquals(s.pgid(), cert.pgid());
            await("the watchdog logs its exit", LONG,
                    () -> readOrEmpty(dir.resolve("watchdog.log")).contains("group is empty; exiting"));
            return new Measured(took, readOrEmpty(dir.resolve("watchdog.log")));
        } finally {
            s.agent().destroyForcibly();
        }
    }

    @Test
    void aPausedAgentLosesItsCommandAtTheLeaseEnd(@TempDir Path dir) throws Exception {
        // lease 1 s renewed every 100 ms; TERM ignored, so SIGKILL 300 ms after the lease's end
        StandIn s = standIn(dir, "trap '' TERM; sleep 1000 & wait", 300, 1000, 2, 33);
        try {
            // pause it once it has renewed at least once with the command running
            long lastLeaseEnd = 0;
            String line;
            do {
                line = s.out().readLine();
                if (line != null && line.startsWith("RENEWED ")) lastLeaseEnd = Long.parseLong(line.substring(8).trim());
            } while (line != null && lastLeaseEnd == 0);
            long t0 = System.nanoTime();
            assertEquals(Signals.Delivery.SENT, Signals.kill((int) s.agent().pid(), Signals.SIGSTOP));
            long emptyAt = t0 + emptyAfter(s.pgid(), t0);
            Signals.kill((int) s.agent().pid(), Signals.SIGCONT);
            // the stand-in prints each lease end it handed the watchdog (System.nanoTime(), the
            // clock this JVM shares), after handing it; a lease end computed before the pause
            // (end - 1 s < t0) is one the watchdog may have had, later ones came after SIGCONT
            do {
                line = s.out().readLine();
                if (line != null && line.startsWith("RENEWED ")) {
                    long end = Long.parseLong(line.substring(8).trim());
                    if (end - TimeUnit.SECONDS.toNanos(1) <= t0) lastLeaseEnd = Math.max(lastLeaseEnd, end);
                }
            } while (line != null && !line.startsWith("EVENT "));
            assertEquals("EVENT " + new Event.CommandStopped(33), line, "the resumed agent hears that it ended");
            long afterLease = emptyAt - lastLeaseEnd;
            assertTrue(afterLease >= TimeUnit.MILLISECONDS.toNanos(300 - 20),
                    "SIGKILL " + ms(afterLease) + " ms after the last lease's end, before stop_timeout (300 ms)");
            // a renewal in flight adds at most 1 s (one lease) to what was printed; 3 s for load
            assertTrue(afterLease <= TimeUnit.MILLISECONDS.toNanos(300 + 1000 + 3000),
                    "SIGKILL " + ms(afterLease) + " ms after the last printed lease's end");
            long took = emptyAt - t0;
            System.out.printf("measured: agent paused (SIGSTOP), lease 1 s, stop_timeout 300 ms: group empty %d ms"
                    + " after the pause%n", ms(took));
        } finally {
            s.agent().destroyForcibly();
        }
    }
}
