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
 * silent, the pipe open); {@link AgentDeathTest} has the agent die by SIGKILL or pause.
 */
class WatchdogTest {
    private static final Duration LONG = TestSupport.PATIENCE;

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
            assertEquals(new Event.CommandStopped(20), ev.nextEvent(Event.CommandStopped.class,
                    TestSupport.patienceAfter(Duration.ofMillis(1500))),
                    "the command ended after its lease: no restart despite restart: always");
            assertEquals(List.of(), liveMembers(pgid));
            await("the watchdog logs its exit", LONG,
                    () -> readOrEmpty(dir.resolve("watchdog.log")).matches("(?s).*(exiting|released by the agent).*"));
            long got = Long.parseLong(readOrEmpty(termAt).trim());
            long due = uptimeCs(leaseEnd);
            assertTrue(got >= due - 1, "stop signal at " + got + " cs, before the lease end " + due + " cs");
            // slack for a loaded machine (3 s); how soon it comes is `make bench`'s to report
            assertTrue(got <= due + 300, "stop signal at " + got + " cs, long after the lease end " + due + " cs");
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
            long deadline = leaseEnd + TestSupport.patienceAfter(Duration.ofMillis(500)).toNanos();
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
            assertTrue(afterLease <= TimeUnit.MILLISECONDS.toNanos(500 + 3000),
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

    /**
     * Driven by deadlines, not by a renewal pace: the first lease ends 1 s after the start; each
     * renewal moves the end 3 s past the moment it is sent, so the test thread may stall up to 3 s
     * without the command's lease running out. The group must live through the first lease's end
     * plus stop_timeout (a watchdog that ignored renewals would have stopped it there), then end
     * once renewals stop, never before the last lease's end (the last renewal's lease is 300 ms,
     * so the test does not wait out a 3 s one). The watchdog's CPU is `make bench`'s.
     */
    @Test
    void renewalsKeepTheCommandRunningUntilTheyStop(@TempDir Path dir) throws Exception {
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(bash("exec sleep 1000", 300, RestartPolicy.NEVER, 0), HookSpec.none(),
                BASE, dir, ev::accept)) {
            long lease = TimeUnit.MILLISECONDS.toNanos(3000);
            long firstLeaseEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            s.start(22, "node-a", firstLeaseEnd);
            int pgid = SupervisorStopTest.awaitRunning(s);
            long last = System.nanoTime() + lease;
            s.renew(last);
            // past the first lease's end and its stop_timeout, with 700 ms to spare
            long until = firstLeaseEnd + TimeUnit.MILLISECONDS.toNanos(300 + 700);
            int renewals = 1;
            while (System.nanoTime() < until) {
                assertEquals(List.of(pgid), liveMembers(pgid), "renewed, yet the command is gone");
                TestSupport.sleepMillis(50);
                last = System.nanoTime() + lease;
                s.renew(last);
                renewals++;
            }
            assertEquals(List.of(pgid), liveMembers(pgid), "the first lease ended " + ms(System.nanoTime() - firstLeaseEnd)
                    + " ms ago and " + renewals + " renewals followed, yet the command is gone");
            String wlog = readOrEmpty(dir.resolve("watchdog.log"));
            assertTrue(!wlog.contains("signal 15 sent"), "no stop signal while renewed:\n" + wlog);
            // the last renewal gives a short lease (the watchdog takes the newest deadline, earlier
            // or later), so that the test need not wait out a 3 s one
            long lastLeaseEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            s.renew(lastLeaseEnd);
            await("the command ends after the last lease", TestSupport.patienceAfter(Duration.ofMillis(3000)), () -> liveMembers(pgid).isEmpty());
            long after = System.nanoTime() - lastLeaseEnd;
            assertTrue(after >= -TimeUnit.MILLISECONDS.toNanos(20), "stopped " + ms(-after) + " ms before the lease end");
            assertEquals(new Event.CommandStopped(22), ev.nextEvent(Event.CommandStopped.class, LONG));
        }
    }
}
