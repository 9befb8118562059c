package io.quorumd.command;

import static io.quorumd.command.TestSupport.BASE;
import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.bash;
import static io.quorumd.command.TestSupport.liveMembers;
import static io.quorumd.command.TestSupport.ms;
import static io.quorumd.command.TestSupport.readOrEmpty;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
 * The watchdog outside the JVM: it stops the command when renewals stall (the agent alive but
 * silent, the pipe open) and when the agent dies by SIGKILL.
 */
class WatchdogTest {
    private static final Duration LONG = Duration.ofSeconds(10);

    /** The stop deadline as the watchdog sees it, in /proc/uptime centiseconds. */
    private static long uptimeCs(long nanoTime) {
        return Math.floorDiv(nanoTime + Watchdog.bootMinusMonotonic(), 10_000_000L);
    }

    @Test
    void stalledRenewalsStopTheCommandAtTheLeaseEnd(@TempDir Path dir) throws Exception {
        Path termAt = dir.resolve("term-at");
        String script = "trap 'read -r up _ < /proc/uptime; echo ${up/./} > " + termAt + "; exit 0' TERM; "
                + "sleep 1000 & wait";
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(bash(script, 1000, RestartPolicy.ALWAYS, 5), HookSpec.none(), BASE, dir,
                ev::accept)) {
            long leaseEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
            s.start(20, "node-a", leaseEnd);
            int pgid = SupervisorStopTest.awaitRunning(s);
            // no renewal: the watchdog alone ends it
            assertEquals(new Event.CommandStopped(20), ev.nextEvent(Event.CommandStopped.class, LONG),
                    "the command ended after its lease: no restart despite restart: always");
            assertEquals(List.of(), liveMembers(pgid));
            await("the watchdog logs its exit", LONG,
                    () -> readOrEmpty(dir.resolve("watchdog.log")).matches("(?s).*(exiting|released by the agent).*"));
            long got = Long.parseLong(readOrEmpty(termAt).trim());
            long due = uptimeCs(leaseEnd);
            assertTrue(got >= due - 1, "stop signal at " + got + " cs, before the lease end " + due + " cs");
            assertTrue(got <= due + 50, "stop signal at " + got + " cs, long after the lease end " + due + " cs");
            String wlog = readOrEmpty(dir.resolve("watchdog.log"));
            assertTrue(wlog.contains("pgid=" + pgid + ": signal 15 sent"), wlog);
        }
    }

    @Test
    void stalledRenewalsSigkillAfterStopTimeoutWhenTermIsIgnored(@TempDir Path dir) throws Exception {
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(bash("trap '' TERM; sleep 1000 & wait", 500, RestartPolicy.NEVER, 0),
                HookSpec.none(), BASE, dir, ev::accept)) {
            long leaseEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
            s.start(21, "node-a", leaseEnd);
            int pgid = SupervisorStopTest.awaitRunning(s);
            await("the shell and its sleep run", LONG, () -> liveMembers(pgid).size() == 2);
            long emptyAt = 0;
            long deadline = System.nanoTime() + LONG.toNanos();
            while (System.nanoTime() < deadline) {
                if (liveMembers(pgid).isEmpty()) {
                    emptyAt = System.nanoTime();
                    break;
                }
                TestSupport.sleepMillis(2);
            }
            assertNotEquals(0, emptyAt, "group " + pgid + " still alive");
            long afterLease = emptyAt - leaseEnd;
            assertTrue(afterLease >= TimeUnit.MILLISECONDS.toNanos(500 - 20),
                    "SIGKILL " + ms(afterLease) + " ms after the lease end, before stop_timeout (500 ms)");
            assertTrue(afterLease <= TimeUnit.MILLISECONDS.toNanos(500 + 600),
                    "SIGKILL " + ms(afterLease) + " ms after the lease end");
            assertEquals(new Event.CommandStopped(21), ev.nextEvent(Event.CommandStopped.class, LONG));
            await("the watchdog logs its exit", LONG,
                    () -> readOrEmpty(dir.resolve("watchdog.log")).matches("(?s).*(exiting|released by the agent).*"));
            String wlog = readOrEmpty(dir.resolve("watchdog.log"));
            assertTrue(wlog.contains("pgid=" + pgid + ": signal 15 sent"), wlog);
            assertTrue(wlog.contains("pgid=" + pgid + ": SIGKILL sent"), wlog);
            System.out.printf("measured: stalled renewals, TERM ignored: group empty %d ms after the lease end"
                    + " (stop_timeout 500 ms)%n", ms(afterLease));
        }
    }

    @Test
    void renewalsKeepTheCommandRunningUntilTheyStop(@TempDir Path dir) throws Exception {
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(bash("exec sleep 1000", 300, RestartPolicy.NEVER, 0), HookSpec.none(),
                BASE, dir, ev::accept)) {
            long lease = TimeUnit.MILLISECONDS.toNanos(1000);
            s.start(22, "node-a", System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
            int pgid = SupervisorStopTest.awaitRunning(s);
            long wpid = s.watchdogPid();
            long cpu0 = cpuTicks(wpid);
            long last = 0;
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2000);
            while (System.nanoTime() < until) {
                last = System.nanoTime() + lease;
                s.renew(last);
                assertEquals(List.of(pgid), liveMembers(pgid), "renewed, yet the command is gone");
                TestSupport.sleepMillis(100);
            }
            long cpu = cpuTicks(wpid) - cpu0;
            System.out.printf("measured: watchdog CPU with a renewal every 100 ms: %d ms over 2 s%n", cpu * 10);
            assertTrue(cpu <= 20, "the watchdog used " + cpu * 10 + " ms of CPU in 2 s");
            long lastLeaseEnd = last;
            await("the command ends after the last lease", LONG, () -> liveMembers(pgid).isEmpty());
            long after = System.nanoTime() - lastLeaseEnd;
            assertTrue(after >= -TimeUnit.MILLISECONDS.toNanos(20), "stopped " + ms(-after) + " ms before the lease end");
            assertEquals(new Event.CommandStopped(22), ev.nextEvent(Event.CommandStopped.class, LONG));
        }
    }

    @Test
    void killingTheAgentWithSigkillStopsTheWholeGroup(@TempDir Path dir) throws Exception {
        // The job ignores TERM: only the watchdog's SIGKILL after stop_timeout (300 ms) ends it.
        // The lease (3 s) is renewed every 100 ms, so only the end of the watchdog's input can act
        // this soon.
        Measured m = killAgent(dir, "trap '' TERM; sleep 1000 & sleep 1000 & wait", 300, 3, 31);
        assertTrue(m.emptyAfterNanos < TimeUnit.SECONDS.toNanos(1),
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
        assertTrue(m.emptyAfterNanos < TimeUnit.SECONDS.toNanos(1),
                "group empty " + ms(m.emptyAfterNanos) + " ms after kill -9 of the agent");
        assertTrue(m.watchdogLog.contains("signal 15 sent"), m.watchdogLog);
        System.out.printf("measured: kill -9 of the agent, TERM honoured: group empty after %d ms%n",
                ms(m.emptyAfterNanos));
    }

    /** utime + stime of a process, in clock ticks (1/100 s). */
    private static long cpuTicks(long pid) {
        String st = readOrEmpty(Path.of("/proc/" + pid + "/stat"));
        String[] f = st.substring(st.lastIndexOf(") ") + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
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
            long t0 = System.nanoTime();
            assertEquals(Signals.Delivery.SENT, Signals.kill((int) s.agent().pid(), Signals.SIGSTOP));
            long took = emptyAfter(s.pgid(), t0);
            // the last renewal came at most 100 ms (plus scheduling) before the pause
            assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(1300 - 150), "SIGKILL too early: " + ms(took) + " ms");
            assertTrue(took <= TimeUnit.MILLISECONDS.toNanos(1300 + 700), "SIGKILL too late: " + ms(took) + " ms");
            Signals.kill((int) s.agent().pid(), Signals.SIGCONT);
            String line;
            do {
                line = s.out().readLine();
            } while (line != null && !line.startsWith("EVENT "));
            assertEquals("EVENT " + new Event.CommandStopped(33), line, "the resumed agent hears that it ended");
            System.out.printf("measured: agent paused (SIGSTOP), lease 1 s, stop_timeout 300 ms: group empty %d ms"
                    + " after the pause%n", ms(took));
        } finally {
            s.agent().destroyForcibly();
        }
    }
}
