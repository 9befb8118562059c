package io.quorumd.command;

import static io.quorumd.command.TestSupport.BASE;
import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.leaseIn;
import static io.quorumd.command.TestSupport.readOrEmpty;
import static io.quorumd.command.TestSupport.shell;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quorumd.core.Event;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog parked ahead of need (issue 12): a start takes it instead of forking bash; a dead
 * one is replaced by a fork as before; closing the supervisor or killing the agent leaves none
 * (nor the parked wrapper: {@link ParkedWrapperTest}).
 */
class ParkedWatchdogTest {
    private static final Duration LONG = TestSupport.PATIENCE;

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                && !readOrEmpty(Path.of("/proc/" + pid + "/stat")).matches("^\\d+ \\(.*\\) Z .*");
    }

    private static long awaitParked(Supervisor s) {
        long[] pid = {0};
        await("a watchdog is parked", LONG, () -> (pid[0] = s.parkedPid()) > 0);
        return pid[0];
    }

    @Test
    void aStartTakesTheParkedWatchdogAndParksTheNextOne(@TempDir Path dir) throws Exception {
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(shell("exec sleep 1000", 1000, RestartPolicy.NEVER, 0), HookSpec.none(), BASE,
                dir, ev::accept)) {
            long parked = awaitParked(s);
            assertEquals(Supervisor.State.IDLE, s.status().state(), "parking starts no command");
            s.start(5, "node-a", leaseIn(Duration.ofMinutes(1)));
            await("the command runs", LONG, () -> s.status().state() == Supervisor.State.RUNNING);
            assertEquals(parked, s.watchdogPid(), "the run is guarded by the watchdog that was parked");
            assertEquals(1, s.parkedTaken());
            assertEquals(0, s.parkedMissed());
            int pgid = (int) s.status().pid();
            // it learnt its run's name before it took the group
            String log = readOrEmpty(dir.resolve("watchdog.log"));
            assertTrue(log.matches("(?s).*watchdog\\[" + parked + "\\] term=5 run=[0-9a-f]+ pgid=" + pgid
                    + ": guarding; stop at \\d+, kill at \\d+\n.*"), log);
            long next = awaitParked(s);
            assertNotEquals(parked, next);

            s.stop(5, "test");
            assertEquals(new Event.CommandStopped(5), ev.nextEvent(Event.CommandStopped.class, LONG));
            s.start(6, "node-a", leaseIn(Duration.ofMinutes(1)));
            await("the command runs again", LONG, () -> s.status().state() == Supervisor.State.RUNNING);
            assertEquals(next, s.watchdogPid());
            assertEquals(2, s.parkedTaken());
            assertEquals(0, s.parkedMissed());
        }
    }

    @Test
    void aStartThatFindsTheParkedWatchdogDeadForksOne(@TempDir Path dir) throws Exception {
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(shell("exec sleep 1000", 1000, RestartPolicy.NEVER, 0), HookSpec.none(), BASE,
                dir, ev::accept)) {
            long parked = awaitParked(s);
            assertEquals(Signals.Delivery.SENT, Signals.kill((int) parked, Signals.SIGKILL));
            await("the parked watchdog is dead", LONG, () -> !alive(parked));
            // before the re-park a second later: the start finds no live parked watchdog
            s.start(7, "node-a", leaseIn(Duration.ofMinutes(1)));
            await("the command runs", LONG, () -> s.status().state() == Supervisor.State.RUNNING);
            assertNotEquals(parked, s.watchdogPid());
            assertTrue(alive(s.watchdogPid()));
            assertEquals(0, s.parkedTaken());
            assertEquals(1, s.parkedMissed());
            int pgid = (int) s.status().pid();
            String log = readOrEmpty(dir.resolve("watchdog.log"));
            assertTrue(log.contains("watchdog[" + s.watchdogPid() + "] term=7 run="), log);
            assertTrue(log.contains("pgid=" + pgid + ": guarding"), log);
            long next = awaitParked(s);
            assertNotEquals(parked, next);
        }
    }

    @Test
    void aParkedWatchdogThatDiesIsReplaced(@TempDir Path dir) throws Exception {
        try (Supervisor s = new Supervisor(shell("exec sleep 1000", 1000, RestartPolicy.NEVER, 0), HookSpec.none(), BASE,
                dir, e -> { })) {
            long parked = awaitParked(s);
            Signals.kill((int) parked, Signals.SIGKILL);
            long[] next = {0};
            await("another watchdog is parked", LONG, () -> (next[0] = s.parkedPid()) > 0 && next[0] != parked);
            assertTrue(alive(next[0]));
        }
    }

    @Test
    void closingReleasesTheParkedWatchdog(@TempDir Path dir) throws Exception {
        long parked;
        try (Supervisor s = new Supervisor(shell("exec sleep 1000", 1000, RestartPolicy.NEVER, 0), HookSpec.none(), BASE,
                dir, e -> { })) {
            parked = awaitParked(s);
        }
        await("the parked watchdog exits", LONG, () -> !alive(parked));
        await("it logged why", LONG, () -> readOrEmpty(dir.resolve("watchdog.log"))
                .contains("watchdog[" + parked + "] parked pgid=none: released by the agent"));
    }

    @Test
    void killingTheAgentEndsItsParkedWatchdogAndWrapper(@TempDir Path dir) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = List.of(java, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), AgentStandIn.class.getName(), dir.toString(),
                "1000", "3000", "0", "touch " + dir.resolve("ran") + "; exec sleep 1000");
        Process agent = new ProcessBuilder(cmd).redirectError(dir.resolve("agent.err").toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8));
            long parked = -1;
            long wrapper = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (parked < 0 && System.nanoTime() < deadline) {
                String line = out.readLine();
                if (line == null) {
                    fail("the stand-in agent ended: " + readOrEmpty(dir.resolve("agent.err")));
                }
                if (line.startsWith("PARKED ")) {
                    String[] f = line.split(" ");
                    parked = Long.parseLong(f[1]);
                    wrapper = Long.parseLong(f[2]);
                }
            }
            long w = parked;
            int pw = (int) wrapper;
            assertTrue(alive(w), "watchdog " + w + " is parked");
            assertEquals(List.of(pw), TestSupport.liveMembers(pw), "the parked wrapper is its group, alone");
            assertEquals(Signals.Delivery.SENT, Signals.kill((int) agent.pid(), Signals.SIGKILL));
            assertEquals(137, agent.waitFor());
            await("the parked watchdog exits with the agent", LONG, () -> !alive(w));
            await("the parked wrapper's group ends with the agent", LONG, () -> TestSupport.liveMembers(pw).isEmpty());
            assertFalse(Files.exists(dir.resolve("ran")), "the parked wrapper ran the command");
            assertFalse(Files.exists(dir.resolve(CommandRecord.PGID_FILE)), "a parked wrapper writes no pgid file");
            String log = readOrEmpty(dir.resolve("watchdog.log"));
            assertTrue(log.contains("watchdog[" + w + "] parked pgid=none: agent gone before a group was assigned"), log);
            // nothing was started, so a restarted agent certifies at once
            RestartCertificate.Result cert = RestartCertificate.check(dir);
            assertEquals(RestartCertificate.Verdict.CERTIFIED, cert.verdict(), cert.detail());
        } finally {
            agent.destroyForcibly();
        }
    }
}
