package io.quorumd.command;

import static io.quorumd.command.TestSupport.BASE;
import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.leaseIn;
import static io.quorumd.command.TestSupport.liveMembers;
import static io.quorumd.command.TestSupport.readOrEmpty;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.core.Event;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wrapper parked ahead of need (issue 12): a start takes it (no fork on the critical path),
 * the command it execs sees the very environment a forked wrapper gives it, it runs nothing and
 * writes nothing while parked, and one that is dead or stale is replaced by a fork as before.
 */
class ParkedWrapperTest {
    private static final Duration LONG = TestSupport.PATIENCE;

    private static CommandSpec spec(String script, Path workdir, Map<String, String> env) {
        return new CommandSpec(List.of("/bin/sh", "-c", script), workdir, env, Signals.SIGTERM,
                TimeUnit.SECONDS.toNanos(1), RestartPolicy.NEVER, 0, TimeUnit.SECONDS.toNanos(60));
    }

    private static long awaitParked(Supervisor s) {
        long[] pid = {0};
        await("a wrapper is parked", LONG, () -> (pid[0] = s.parkedWrapperPid()) > 0);
        return pid[0];
    }

    @Test
    void aStartTakesTheParkedWrapperWhichRanNothingBefore(@TempDir Path dir) throws Exception {
        Path ran = dir.resolve("ran");
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(spec("echo $QUORUMD_TERM > " + ran + "; exec sleep 1000", null, Map.of()),
                HookSpec.none(), BASE, dir.resolve("state"), ev::accept)) {
            int parked = (int) awaitParked(s);
            // parked: the wrapper alone in its group, blocked before the command, no file written
            assertEquals(List.of(parked), liveMembers(parked));
            assertTrue(readOrEmpty(Path.of("/proc/" + parked + "/cmdline")).contains("--parked"));
            assertFalse(Files.exists(ran), "the command ran without go");
            assertFalse(Files.exists(dir.resolve("state").resolve(CommandRecord.PGID_FILE)));

            s.start(12, "node-a", leaseIn(Duration.ofMinutes(1)));
            await("the command runs", LONG, () -> s.status().state() == Supervisor.State.RUNNING);
            assertEquals(parked, s.status().pid(), "the command runs as the parked wrapper's process");
            assertEquals(1, s.wrapperTaken());
            assertEquals(0, s.wrapperMissed());
            await("the command wrote its term", LONG, () -> readOrEmpty(ran).equals("12\n"));
            // the restart certificate sees this run's group, by the pgid file written for it
            RestartCertificate.Result cert = RestartCertificate.check(dir.resolve("state"));
            assertEquals(RestartCertificate.Verdict.GROUP_ALIVE, cert.verdict(), cert.detail());
            assertEquals(parked, cert.pgid());
            String log = readOrEmpty(dir.resolve("state").resolve("watchdog.log"));
            assertTrue(log.contains("pgid=" + parked + ": guarding"), log);

            s.stop(12, "test");
            assertEquals(new Event.CommandStopped(12), ev.nextEvent(Event.CommandStopped.class, LONG));
            long next = awaitParked(s);
            assertNotEquals(parked, next, "another wrapper is parked once the group is empty");
            RestartCertificate.Result after = RestartCertificate.check(dir.resolve("state"));
            assertEquals(RestartCertificate.Verdict.CERTIFIED, after.verdict(), after.detail());
        }
    }

    /** The command's whole environment, as the kernel gave it to the exec'd program, sorted. */
    private static List<String> environ(Path file) throws Exception {
        String[] e = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\0");
        Arrays.sort(e);
        return List.of(e);
    }

    @Test
    void theParkedAndTheForkedWrapperGiveTheCommandTheSameEnvironment(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("environ");
        Path work = Files.createDirectories(dir.resolve("work"));
        Map<String, String> env = Map.of("FOO", "bar baz\nsecond line = 'quoted' \"double\" $HOME \\ é",
                "QUORUMD_TERM", "ignored", "EMPTY", "");
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(spec("cp /proc/$$/environ " + out + ".tmp; mv " + out + ".tmp " + out
                + "; exec sleep 1000", work, env), HookSpec.none(), BASE, dir.resolve("state"), ev::accept)) {
            long parked = awaitParked(s);
            s.start(21, "node-a", leaseIn(Duration.ofMinutes(1)));
            await("the parked wrapper's command wrote its environment", LONG, () -> Files.exists(out));
            assertEquals(parked, s.status().pid());
            List<String> viaParked = environ(out);
            s.stop(21, "test");
            assertEquals(new Event.CommandStopped(21), ev.nextEvent(Event.CommandStopped.class, LONG));
            Files.delete(out);

            // none is parked yet (parking waits PARK_AFTER_STOP_MILLIS after a stop), and none will be
            s.parkWrappers = false;
            s.start(21, "node-a", leaseIn(Duration.ofMinutes(1)));
            await("the forked wrapper's command wrote its environment", LONG, () -> Files.exists(out));
            assertNotEquals(parked, s.status().pid());
            assertEquals(1, s.wrapperTaken());
            assertEquals(1, s.wrapperMissed());
            List<String> viaFork = environ(out);

            assertEquals(viaFork, viaParked);
            assertTrue(viaParked.contains("FOO=" + env.get("FOO")), viaParked.toString());
            assertTrue(viaParked.contains("EMPTY="), viaParked.toString());
            assertTrue(viaParked.contains("QUORUMD_TERM=21"), viaParked.toString());
            assertTrue(viaParked.contains("QUORUMD_MASTER=node-a"), viaParked.toString());
            assertTrue(viaParked.contains("QUORUMD_ROLE=master"), viaParked.toString());
            assertEquals(1, viaParked.stream().filter(e -> e.startsWith("QUORUMD_TERM=")).count());
        }
    }

    @Test
    void aDeadParkedWrapperFallsBackToAFork(@TempDir Path dir) throws Exception {
        try (Supervisor s = new Supervisor(spec("exec sleep 1000", null, Map.of()), HookSpec.none(), BASE, dir,
                e -> { })) {
            int parked = (int) awaitParked(s);
            assertEquals(Signals.Delivery.SENT, Signals.kill(parked, Signals.SIGKILL));
            await("the parked wrapper is gone", LONG, () -> liveMembers(parked).isEmpty());
            s.start(3, "node-a", leaseIn(Duration.ofMinutes(1)));
            await("the command runs", LONG, () -> s.status().state() == Supervisor.State.RUNNING);
            int pgid = (int) s.status().pid();
            assertNotEquals(parked, pgid);
            assertEquals(0, s.wrapperTaken());
            assertEquals(1, s.wrapperMissed());
            assertEquals(List.of(pgid), liveMembers(pgid));
            RestartCertificate.Result cert = RestartCertificate.check(dir);
            assertEquals(RestartCertificate.Verdict.GROUP_ALIVE, cert.verdict(), cert.detail());
            assertEquals(pgid, cert.pgid());
        }
    }

    @Test
    void aParkedWrapperWhoseWorkdirWasReplacedIsDiscarded(@TempDir Path dir) throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(spec("pwd -P > here; exec sleep 1000", work, Map.of()), HookSpec.none(),
                BASE, dir.resolve("state"), ev::accept)) {
            int parked = (int) awaitParked(s);
            Files.move(work, dir.resolve("work.old"));
            Files.createDirectories(work);
            s.start(4, "node-a", leaseIn(Duration.ofMinutes(1)));
            await("the command ran in the new workdir", LONG, () -> Files.exists(work.resolve("here")));
            assertEquals(work.toRealPath().toString(), readOrEmpty(work.resolve("here")).trim());
            assertFalse(Files.exists(dir.resolve("work.old").resolve("here")));
            assertNotEquals(parked, s.status().pid());
            assertEquals(1, s.wrapperMissed());
            await("the stale parked wrapper exits without running anything", LONG, () -> liveMembers(parked).isEmpty());
        }
    }

    @Test
    void closingEndsTheParkedWrapper(@TempDir Path dir) throws Exception {
        int parked;
        try (Supervisor s = new Supervisor(spec("touch " + dir.resolve("ran") + "; exec sleep 1000", null, Map.of()),
                HookSpec.none(), BASE, dir.resolve("state"), e -> { })) {
            parked = (int) awaitParked(s);
        }
        await("the parked wrapper exits", LONG, () -> liveMembers(parked).isEmpty());
        assertFalse(Files.exists(dir.resolve("ran")));
    }
}
