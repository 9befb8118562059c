package io.quorumd.command;

import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.liveMembers;
import static io.quorumd.command.TestSupport.ms;
import static io.quorumd.command.TestSupport.readOrEmpty;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The groups of {@code quorumd exec} under the lease, with real process groups and real
 * watchdogs: who may be guarded, the lease's end stopping the group, renewals keeping it, the
 * guard ending with its group, and a watchdog's death never leaving a group unguarded.
 */
class ExecGuardsTest {
    private static final Duration LONG = TestSupport.PATIENCE;
    private static final long SELF = ProcessHandle.current().pid();

    private final List<Process> groups = new ArrayList<>();
    private Spawner spawner;

    @AfterEach
    void cleanUp() {
        for (Process p : groups) {
            Signals.signalGroup((int) p.pid(), Signals.SIGKILL);
        }
        if (spawner != null) {
            spawner.close();
        }
    }

    private ExecGuards guards(Path dir, long stopTimeoutMillis) throws Exception {
        spawner = new Spawner();
        return new ExecGuards(spawner, Signals.SIGTERM, TimeUnit.MILLISECONDS.toNanos(stopTimeoutMillis),
                dir.resolve("watchdog.log"));
    }

    /** A real process group of its own, a child of this JVM: a JVM child is no group leader, so setsid does not fork. */
    private int group(String script, int members) throws Exception {
        Process p = new ProcessBuilder("setsid", "--", "sh", "-c", script).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        groups.add(p);
        int pgid = (int) p.pid();
        await("the group's " + members + " processes run", LONG, () -> liveMembers(pgid).size() == members);
        return pgid;
    }

    private static String refusalOf(CompletableFuture<String> f) throws Exception {
        try {
            String line = f.get(LONG.toMillis(), TimeUnit.MILLISECONDS);
            return fail("guarded, armed: " + line);
        } catch (ExecutionException e) {
            return e.getCause().getMessage();
        }
    }

    @Test
    void onlyALiveGroupLeaderChildOfTheCallerIsGuarded(@TempDir Path dir) throws Exception {
        ExecGuards g = guards(dir, 200);
        int pgid = group("exec sleep 1000", 1);
        long lease = TestSupport.leaseIn(Duration.ofMinutes(1));
        assertEquals("process group 1 is not one a command can lead", ExecGuards.refusal(1, SELF));
        assertEquals("process group 0 is not one a command can lead", ExecGuards.refusal(0, SELF));
        assertEquals("process 2147483647 does not exist", ExecGuards.refusal(Integer.MAX_VALUE, SELF));
        assertEquals("process " + pgid + " is not a child of the caller (pid 1)", ExecGuards.refusal(pgid, 1));
        assertNull(ExecGuards.refusal(pgid, SELF));
        assertNull(ExecGuards.refusal(pgid, 0), "no owner given: any leader");

        // a child of this JVM in the JVM's own group
        Process plain = new ProcessBuilder("sleep", "1000").start();
        try {
            assertEquals("process " + plain.pid() + " does not lead its own process group",
                    ExecGuards.refusal((int) plain.pid(), SELF));
            assertEquals("process " + plain.pid() + " does not lead its own process group",
                    refusalOf(g.guard((int) plain.pid(), SELF, lease, "plain")));
        } finally {
            plain.destroyForcibly().waitFor();
        }
        // a leader that exited and is only a zombie is not alive
        Process gone = new ProcessBuilder("setsid", "--", "sh", "-c", "exit 0").start();
        gone.waitFor();
        assertEquals("process " + gone.pid() + " does not exist", ExecGuards.refusal((int) gone.pid(), SELF));

        assertEquals("this node's lease has ended", refusalOf(g.guard(pgid, SELF, System.nanoTime() - 1, "late")));
        assertEquals(0, g.size());
        String armed = g.guard(pgid, SELF, lease, "first").get(LONG.toMillis(), TimeUnit.MILLISECONDS);
        assertTrue(armed.startsWith("armed " + pgid + " "), armed);
        assertEquals(1, g.size());
        assertEquals("process group " + pgid + " is guarded already", refusalOf(g.guard(pgid, SELF, lease, "again")));
        assertEquals(1, g.size());
    }

    @Test
    void theLeaseEndStopsTheGroupAndTheGuardEndsWithIt(@TempDir Path dir) throws Exception {
        ExecGuards g = guards(dir, 300);
        Path termAt = dir.resolve("term-at");
        int pgid = group("trap 'read -r up _ < /proc/uptime; echo ${up%.*}${up#*.} > " + termAt
                + "; kill $!; exit 0' TERM; sleep 1000 & wait", 2);
        long leaseEnd = TestSupport.leaseIn(Duration.ofMillis(700));
        String armed = g.guard(pgid, SELF, leaseEnd, "lease end").get(LONG.toMillis(), TimeUnit.MILLISECONDS);
        assertTrue(armed.startsWith("armed " + pgid + " "), armed);
        await("the group ends after the lease", TestSupport.patienceAfter(Duration.ofMillis(700)),
                () -> liveMembers(pgid).isEmpty());
        long stoppedAt = Long.parseLong(readOrEmpty(termAt).trim());
        long due = Math.floorDiv(leaseEnd + Watchdog.bootMinusMonotonic(), 10_000_000L);
        assertTrue(stoppedAt >= due - 1, "stop signal at " + stoppedAt + " cs, before the lease end " + due + " cs");
        assertGuardEndsAndWatchdogLogged(g, dir, pgid, ": signal 15 sent");
    }

    @Test
    void renewalsKeepTheGroupAndTermIgnoredEndsInSigkill(@TempDir Path dir) throws Exception {
        ExecGuards g = guards(dir, 300);
        int pgid = group("trap '' TERM; sleep 1000 & wait", 2);
        long firstEnd = TestSupport.leaseIn(Duration.ofMillis(500));
        g.guard(pgid, SELF, firstEnd, "renewed").get(LONG.toMillis(), TimeUnit.MILLISECONDS);
        long lastEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        g.renew(lastEnd);
        // past the first lease's end and its stop_timeout, with 300 ms to spare
        long until = firstEnd + TimeUnit.MILLISECONDS.toNanos(300 + 300);
        while (System.nanoTime() < until) {
            TestSupport.sleepMillis(20);
        }
        assertEquals(2, liveMembers(pgid).size(), "renewed, yet the group is stopped");
        await("the group ends after the renewed lease", TestSupport.patienceAfter(Duration.ofMillis(1500 + 300)),
                () -> liveMembers(pgid).isEmpty());
        long after = System.nanoTime() - lastEnd;
        assertTrue(after >= TimeUnit.MILLISECONDS.toNanos(300 - 20),
                "TERM is ignored: only SIGKILL, stop_timeout after the lease end, ends it; " + ms(after) + " ms");
        assertGuardEndsAndWatchdogLogged(g, dir, pgid, ": SIGKILL sent");
    }

    @Test
    void aGroupThatEndsReleasesItsGuardWithoutASignal(@TempDir Path dir) throws Exception {
        ExecGuards g = guards(dir, 300);
        int pgid = group("exec sleep 1000", 1);
        g.guard(pgid, SELF, TestSupport.leaseIn(Duration.ofMinutes(1)), "ends").get(LONG.toMillis(), TimeUnit.MILLISECONDS);
        Signals.signalGroup(pgid, Signals.SIGKILL);
        g.ended(pgid);
        await("the guard ends once its group is empty", LONG, () -> g.size() == 0);
        await("its watchdog exits", LONG, () -> readOrEmpty(dir.resolve("watchdog.log"))
                .matches("(?s).*(exiting|released by the agent).*"));
        String wlog = readOrEmpty(dir.resolve("watchdog.log"));
        assertTrue(!wlog.contains("signal 15 sent") && !wlog.contains("SIGKILL sent"), wlog);
    }

    @Test
    void aWatchdogThatDiesTakesItsGroupWithIt(@TempDir Path dir) throws Exception {
        ExecGuards g = guards(dir, 300);
        int pgid = group("trap '' TERM; sleep 1000 & wait", 2);
        g.guard(pgid, SELF, TestSupport.leaseIn(Duration.ofMinutes(1)), "orphaned").get(LONG.toMillis(),
                TimeUnit.MILLISECONDS);
        // the JVM's own child (the watchdog's subshells carry the same command line)
        List<ProcessHandle> dogs = ProcessHandle.current().children()
                .filter(h -> h.info().commandLine().orElse("").contains(Spawner.WATCHDOG))
                .filter(h -> h.info().commandLine().orElse("").contains("orphaned")).toList();
        assertEquals(1, dogs.size(), "one watchdog: " + dogs);
        dogs.get(0).destroyForcibly();
        await("the group is killed when its watchdog dies", LONG, () -> liveMembers(pgid).isEmpty());
        await("the dead watchdog's guard is gone", LONG, () -> g.size() == 0);
    }

    /** The guard ends once its group is empty, and the watchdog's log says what it did to the group. */
    private static void assertGuardEndsAndWatchdogLogged(ExecGuards g, Path dir, int pgid, String what) throws Exception {
        await("the guard ends once its group is empty", LONG, () -> g.size() == 0);
        String wlog = readOrEmpty(dir.resolve("watchdog.log"));
        assertTrue(wlog.contains("pgid=" + pgid + what), wlog);
    }
}
