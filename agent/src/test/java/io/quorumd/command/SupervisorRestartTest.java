package io.quorumd.command;

import static io.quorumd.command.TestSupport.BASE;
import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.bash;
import static io.quorumd.command.TestSupport.leaseIn;
import static io.quorumd.command.TestSupport.liveMembers;
import static io.quorumd.command.TestSupport.readOrEmpty;
import static io.quorumd.command.TestSupport.shell;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.core.Event;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restart policy, back-off, giving up, and stop during back-off, with real crashing commands. */
class SupervisorRestartTest {
    private static final Duration LONG = TestSupport.PATIENCE;

    @Test
    void aCrashingCommandRestartsWithGrowingBackOffThenGivesUp(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("starts");
        // Each start logs "UPTIME_CS PGID", checks that the previous run's group has no live
        // process left (its leftover job ignores TERM, so only SIGKILL after stop_timeout ends it),
        // leaves such a job behind and crashes.
        String script = "read -r up _ < /proc/uptime; "
                + "prev=$(tail -n 1 " + log + " 2>/dev/null | cut -d' ' -f2); "
                + "if [ -n \"$prev\" ]; then for f in /proc/[0-9]*/stat; do "
                + "  read -r l < $f 2>/dev/null || continue; r=${l##*) }; set -- $r; "
                + "  if [ \"$3\" = \"$prev\" ] && [ \"$1\" != Z ]; then echo OVERLAP >> " + log + "; fi; done; fi; "
                + "echo \"${up/./} $$\" >> " + log + "; "
                + "trap '' TERM; sleep 1000 & exit 3";
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(bash(script, 150, RestartPolicy.ON_FAILURE, 3), HookSpec.none(), BASE,
                dir, ev::accept)) {
            s.start(9, "node-a", leaseIn(Duration.ofMinutes(1)));
            Event.CommandGaveUp gaveUp = ev.nextEvent(Event.CommandGaveUp.class,
                    // by design within four runs, three 150 ms stop timeouts and 0.1 + 0.2 + 0.4 s of back-off
                    TestSupport.patienceAfter(Duration.ofMillis(1150)));
            assertEquals(9, gaveUp.term());
            assertTrue(gaveUp.reason().contains("4 times"), gaveUp.reason());
            assertEquals(new Event.CommandStopped(9), ev.nextEvent(Event.CommandStopped.class, LONG));
            assertEquals(Supervisor.State.FAILED, s.status().state());
            assertEquals(3, s.status().restarts());

            String text = readOrEmpty(log);
            assertFalse(text.contains("OVERLAP"), "a start saw the previous group alive:\n" + text);
            List<Long> at = new ArrayList<>();
            for (String line : text.strip().split("\n")) {
                String[] f = line.split(" ");
                at.add(Long.parseLong(f[0]));
                assertEquals(List.of(), liveMembers(Integer.parseInt(f[1])), "group " + f[1] + " left processes");
            }
            assertEquals(4, at.size(), "one start and three restarts:\n" + text);
            // Between starts: 150 ms to SIGKILL the leftover job, then back-off d in [d/2, d] for
            // d = 100, 200, 400 ms; /proc/uptime has 10 ms steps. The growing lower bounds are what
            // a fixed back-off would break.
            long[] minGapCs = {15 + 5 - 1, 15 + 10 - 1, 15 + 20 - 1};
            for (int i = 1; i < at.size(); i++) {
                long gap = at.get(i) - at.get(i - 1);
                assertTrue(gap >= minGapCs[i - 1], "gap " + i + " is " + gap + " cs, expected at least "
                        + minGapCs[i - 1] + ":\n" + text);
            }
        }
    }

    @Test
    void aStopDuringBackOffCancelsTheRestartAtOnce(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("starts");
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(shell("echo x >> " + log + "; exit 1", 1000, RestartPolicy.ALWAYS, 50),
                HookSpec.none(), BASE, dir, ev::accept)) {
            s.start(10, "node-a", leaseIn(Duration.ofMinutes(1)));
            // the sixth back-off lasts 1.6 to 3.2 s: a stop that waited for it would show
            // the five back-offs before it last at most 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s
            await("the back-off after the sixth start", TestSupport.patienceAfter(Duration.ofMillis(3100)), () ->
                    s.status().state() == Supervisor.State.BACKOFF && readOrEmpty(log).length() == 12);
            int starts = readOrEmpty(log).length() / 2;
            long t0 = System.nanoTime();
            s.stop(10, "demoted");
            TestSupport.Events.Seen stopped = ev.next(Event.CommandStopped.class, LONG);
            assertEquals(new Event.CommandStopped(10), stopped.event());
            // the back-off had begun a moment ago and lasts at least 1.6 s; 1 s is slack for load,
            // the speed of a stop is `make bench`'s to report
            assertTrue(stopped.atNanos() - t0 < Duration.ofMillis(1000).toNanos(),
                    "back-off never delays a stop: " + TestSupport.ms(stopped.atNanos() - t0) + " ms");
            assertEquals(Supervisor.State.IDLE, s.status().state());
            // the cancelled restart was due within 3.2 s of the back-off's start
            ev.none(Duration.ofMillis(3300));
            assertEquals(starts, readOrEmpty(log).length() / 2, "no start after the stop");
        }
    }

    @Test
    void aStopForAnotherTermDuringBackOffLeavesTheRestartDue(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("starts");
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(shell("echo x >> " + log + "; exit 1", 1000, RestartPolicy.ALWAYS, 50),
                HookSpec.none(), BASE, dir, ev::accept)) {
            s.start(16, "node-a", leaseIn(Duration.ofMinutes(1)));
            // the first back-off lasts 50 to 100 ms; the stop is handled on the spawner thread at once
            await("the back-off after the first start", LONG, () ->
                    s.status().state() == Supervisor.State.BACKOFF && readOrEmpty(log).length() == 2);
            s.stop(15, "a stop for an older term");
            await("restarted twice despite the stop for another term", LONG, () -> readOrEmpty(log).length() >= 6);
            ev.none(Duration.ofMillis(1));
            s.stop(16, "demoted");
            assertEquals(new Event.CommandStopped(16), ev.nextEvent(Event.CommandStopped.class, LONG));
        }
    }

    @Test
    void neverRestartsNothingAndReportsTheEnd(@TempDir Path dir) throws Exception {
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(shell("exit 7", 1000, RestartPolicy.NEVER, 5), HookSpec.none(), BASE, dir,
                ev::accept)) {
            s.start(11, "node-a", leaseIn(Duration.ofMinutes(1)));
            assertEquals(new Event.CommandStopped(11), ev.nextEvent(Event.CommandStopped.class, LONG));
            assertEquals(Supervisor.State.IDLE, s.status().state());
            assertEquals(0, s.status().restarts());
        }
    }

    /**
     * After an end for good (here: giving up) nothing runs, so close() has nothing to wait for:
     * it returns at once, and it ends the spawner thread (whose end is what SIGKILLs, through
     * the parent-death signal, any child still alive).
     */
    @Test
    void closeAfterGivingUpReturnsAtOnceAndEndsTheSpawnerThread(@TempDir Path dir) throws Exception {
        TestSupport.Events ev = new TestSupport.Events();
        Supervisor s = new Supervisor(shell("exit 1", 1000, RestartPolicy.ALWAYS, 0), HookSpec.none(), BASE, dir,
                ev::accept);
        s.start(14, "node-a", leaseIn(Duration.ofMinutes(1)));
        assertTrue(ev.nextEvent(Event.CommandGaveUp.class, LONG).reason().contains("1 times"));
        assertEquals(new Event.CommandStopped(14), ev.nextEvent(Event.CommandStopped.class, LONG));
        Thread spawner = s.spawnerThread();
        long t0 = System.nanoTime();
        s.close();
        long took = System.nanoTime() - t0;
        assertTrue(took < TimeUnit.MILLISECONDS.toNanos(3000), "close() took " + TestSupport.ms(took) + " ms");
        spawner.join(LONG.toMillis());
        assertFalse(spawner.isAlive(), "close() ends the spawner thread");
    }

    @Test
    void aRestartKeepsTheTermAndANewTermStartsFresh(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("terms");
        TestSupport.Events ev = new TestSupport.Events();
        String script = "echo $QUORUMD_TERM >> " + log + "; if [ $(wc -l < " + log + ") -lt 2 ]; then exit 1; fi; "
                + "exec sleep 1000";
        try (Supervisor s = new Supervisor(shell(script, 1000, RestartPolicy.ON_FAILURE, 5), HookSpec.none(), BASE,
                dir, ev::accept)) {
            s.start(12, "node-a", leaseIn(Duration.ofMinutes(1)));
            await("restarted once and running", LONG, () -> s.status().state() == Supervisor.State.RUNNING
                    && s.status().restarts() == 1 && readOrEmpty(log).length() == 6);
            assertEquals("12\n12\n", readOrEmpty(log), "a restart by the same master keeps its term");
            s.start(13, "node-a", leaseIn(Duration.ofMinutes(1)));
            assertEquals(new Event.CommandStopped(12), ev.nextEvent(Event.CommandStopped.class, LONG),
                    "a start for a new term stops the old term's command first");
            await("running for term 13", LONG, () -> s.status().state() == Supervisor.State.RUNNING
                    && s.status().term() == 13 && readOrEmpty(log).length() == 9);
            assertEquals("12\n12\n13\n", readOrEmpty(log));
            assertEquals(0, s.status().restarts());
        }
    }

    @Test
    void noStartWhenTheLeaseIsAlreadyOver(@TempDir Path dir) throws Exception {
        TestSupport.Events ev = new TestSupport.Events();
        Path log = dir.resolve("ran");
        try (Supervisor s = new Supervisor(shell("touch " + log + "; exec sleep 1000", 1000, RestartPolicy.ALWAYS, 5),
                HookSpec.none(), BASE, dir, ev::accept)) {
            s.start(14, "node-a", System.nanoTime() - 1);
            assertEquals(new Event.CommandStopped(14), ev.nextEvent(Event.CommandStopped.class, LONG));
            assertFalse(log.toFile().exists());
        }
    }
}
