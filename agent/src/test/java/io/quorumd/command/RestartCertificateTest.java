package io.quorumd.command;

import static io.quorumd.command.TestSupport.BASE;
import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.leaseIn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.command.RestartCertificate.Verdict;
import io.quorumd.core.Event;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The restart certificate against real process groups and the records the supervisor writes. */
class RestartCertificateTest {
    private static final Duration LONG = TestSupport.PATIENCE;
    private static final Host HOST = new Host("boot-1", "", null, ProcessHandle.current().pid());

    private static void record(Path dir, String state, long term, String run, String bootId) throws Exception {
        new CommandRecord(state, term, run, bootId, "").write(dir);
    }

    private static void pgidFile(Path dir, long pgid, String run) throws Exception {
        Files.writeString(dir.resolve(CommandRecord.PGID_FILE), "pgid=" + pgid + " run=" + run + "\n");
    }

    /** A real process group of its own: a JVM child is no group leader, so setsid does not fork. */
    private static Process group(Path dir) throws Exception {
        return new ProcessBuilder("setsid", "--", "sh", "-c", "sleep 1000 & exec sleep 1000")
                .redirectErrorStream(true).redirectOutput(dir.resolve("group.out").toFile()).start();
    }

    @Test
    void noRecordMeansNoCommandWasEverStarted(@TempDir Path dir) {
        RestartCertificate.Result r = RestartCertificate.check(dir, HOST);
        assertEquals(Verdict.CERTIFIED, r.verdict());
        assertEquals(0, r.lastCommandTerm());
    }

    @Test
    void aRecordedGroupIsCertifiedOnlyOnceItIsEmpty(@TempDir Path dir) throws Exception {
        Process p = group(dir);
        int pgid = (int) p.pid();
        try {
            await("the group has both sleeps", LONG, () -> TestSupport.liveMembers(pgid).size() == 2);
            record(dir, "starting", 7, "r1", "boot-1");
            pgidFile(dir, pgid, "r1");
            RestartCertificate.Result alive = RestartCertificate.check(dir, HOST);
            assertEquals(Verdict.GROUP_ALIVE, alive.verdict(), alive.detail());
            assertEquals(pgid, alive.pgid());
            // the leader goes first: the orphan keeps the group alive
            p.destroyForcibly().waitFor();
            assertEquals(Verdict.GROUP_ALIVE, RestartCertificate.check(dir, HOST).verdict());
            Signals.signalGroup(pgid, Signals.SIGKILL);
            RestartCertificate.Result r = RestartCertificate.await(dir, System.nanoTime() + LONG.toNanos(), HOST);
            assertEquals(Verdict.CERTIFIED, r.verdict(), r.detail());
            assertEquals(7, r.lastCommandTerm());
            assertEquals(pgid, r.pgid());
        } finally {
            Signals.signalGroup(pgid, Signals.SIGKILL);
        }
    }

    @Test
    void startingWithoutAGroupIdIsNeverCertified(@TempDir Path dir) throws Exception {
        record(dir, "starting", 4, "r2", "boot-1");
        RestartCertificate.Result r = RestartCertificate.check(dir, HOST);
        assertEquals(Verdict.UNKNOWN, r.verdict(), r.detail());
        // a group id from another run is no group id for this one
        pgidFile(dir, 12345, "r-other");
        assertEquals(Verdict.UNKNOWN, RestartCertificate.check(dir, HOST).verdict());
        long t0 = System.nanoTime();
        assertEquals(Verdict.UNKNOWN, RestartCertificate.await(dir, t0 + TimeUnit.MILLISECONDS.toNanos(100), HOST).verdict());
    }

    @Test
    void anUnreadableRecordIsNeverCertified(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(CommandRecord.STATE_FILE), "state=starting\nterm=x\n");
        assertEquals(Verdict.UNKNOWN, RestartCertificate.check(dir, HOST).verdict());
        Files.writeString(dir.resolve(CommandRecord.STATE_FILE), "garbage");
        assertEquals(Verdict.UNKNOWN, RestartCertificate.check(dir, HOST).verdict());
    }

    @Test
    void aRebootSinceTheStartCertifies(@TempDir Path dir) throws Exception {
        record(dir, "starting", 5, "r3", "boot-0");
        RestartCertificate.Result r = RestartCertificate.check(dir, HOST);
        assertEquals(Verdict.CERTIFIED, r.verdict(), r.detail());
        assertEquals(5, r.lastCommandTerm());
    }

    @Test
    void anEmptySystemdCgroupCertifiesTheSameCgroupOnly(@TempDir Path dir) throws Exception {
        Path procs = dir.resolve("cgroup.procs");
        long self = ProcessHandle.current().pid();
        Files.writeString(procs, self + "\n");
        new CommandRecord("starting", 6, "r4", "boot-1", "/system.slice/quorumd.service").write(dir);
        Host underSystemd = new Host("boot-1", "/system.slice/quorumd.service", procs, self);
        RestartCertificate.Result r = RestartCertificate.check(dir, underSystemd);
        assertEquals(Verdict.CERTIFIED, r.verdict(), r.detail());
        assertEquals(6, r.lastCommandTerm());
        Files.writeString(procs, self + "\n4242\n");
        assertEquals(Verdict.UNKNOWN, RestartCertificate.check(dir, underSystemd).verdict(),
                "another process in the cgroup: fall back to the group id, which is missing");
        Files.writeString(procs, self + "\n");
        Host elsewhere = new Host("boot-1", "/user.slice/session-1.scope", procs, self);
        assertEquals(Verdict.UNKNOWN, RestartCertificate.check(dir, elsewhere).verdict(),
                "a cgroup other than the recorded one proves nothing");
    }

    @Test
    void theSupervisorsRecordsCertifyAStoppedCommand(@TempDir Path dir) throws Exception {
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(TestSupport.shell("exec sleep 1000", 1000, RestartPolicy.NEVER, 0),
                HookSpec.none(), BASE, dir, ev::accept)) {
            s.start(15, "node-a", leaseIn(Duration.ofMinutes(1)));
            int pgid = SupervisorStopTest.awaitRunning(s);
            RestartCertificate.Result running = RestartCertificate.check(dir);
            assertEquals(Verdict.GROUP_ALIVE, running.verdict(), running.detail());
            assertEquals(pgid, running.pgid());
            assertEquals(15, running.lastCommandTerm());
            assertTrue(Files.readString(dir.resolve(CommandRecord.STATE_FILE)).contains("state=starting\nterm=15\n"));
            s.stop(15, "test");
            assertEquals(new Event.CommandStopped(15), ev.nextEvent(Event.CommandStopped.class, LONG));
            RestartCertificate.Result stopped = RestartCertificate.check(dir);
            assertEquals(Verdict.CERTIFIED, stopped.verdict(), stopped.detail());
            assertEquals(15, stopped.lastCommandTerm());
            // by the record, not only by the empty group: a restarted agent need not look for it
            assertEquals("stopped", CommandRecord.read(dir).state());
            assertTrue(stopped.detail().contains("seen stopped"), stopped.detail());
        }
    }
}
