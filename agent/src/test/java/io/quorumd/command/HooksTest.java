package io.quorumd.command;

import static io.quorumd.command.TestSupport.BASE;
import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.liveMembers;
import static io.quorumd.command.TestSupport.readOrEmpty;
import static io.quorumd.command.TestSupport.script;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hooks and the fence, run for real: environment, time-out with group kill, results. */
class HooksTest {
    private static final Duration LONG = TestSupport.PATIENCE;

    static Map<String, String> quorumdVars(String envDump) {
        Map<String, String> vars = new TreeMap<>();
        for (String line : envDump.split("\n")) {
            if (line.startsWith("QUORUMD_")) {
                int eq = line.indexOf('=');
                vars.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return vars;
    }

    private static HookSpec hooks(Path onMaster, Path onFollower, Path fence, long timeoutMillis) {
        return new HookSpec(onMaster, onFollower, fence, TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
    }

    @Test
    void hooksSeeTheirRoleTermMasterAndCluster(@TempDir Path dir) throws Exception {
        Path masterEnv = dir.resolve("master.env");
        Path followerEnv = dir.resolve("follower.env");
        Path onMaster = script(dir, "master.sh", "env > " + masterEnv + ".tmp; mv " + masterEnv + ".tmp " + masterEnv);
        Path onFollower = script(dir, "follower.sh",
                "env > " + followerEnv + ".tmp; mv " + followerEnv + ".tmp " + followerEnv);
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(null, hooks(onMaster, onFollower, null, 5000), BASE, dir.resolve("state"),
                ev::accept)) {
            s.runHook(Effect.Hook.ON_MASTER, 41, "node-a");
            s.runHook(Effect.Hook.ON_FOLLOWER, 42, "node-b");
            await("both hooks ran", LONG, () -> masterEnv.toFile().exists() && followerEnv.toFile().exists());
            assertEquals(Map.of("QUORUMD_CLUSTER", "payments", "QUORUMD_NODE", "node-a", "QUORUMD_TERM", "41",
                    "QUORUMD_MASTER", "node-a", "QUORUMD_ROLE", "master", "QUORUMD_PEERS", "node-a,node-b,node-c"),
                    quorumdVars(readOrEmpty(masterEnv)));
            assertEquals(Map.of("QUORUMD_CLUSTER", "payments", "QUORUMD_NODE", "node-a", "QUORUMD_TERM", "42",
                    "QUORUMD_MASTER", "node-b", "QUORUMD_ROLE", "follower", "QUORUMD_PEERS", "node-a,node-b,node-c"),
                    quorumdVars(readOrEmpty(followerEnv)));
            ev.none(Duration.ofMillis(100));
        }
    }

    @Test
    void aHookPastItsTimeoutIsKilledWithItsGroupThenTheNextRuns(@TempDir Path dir) throws Exception {
        Path pids = dir.resolve("pids");
        Path slow = script(dir, "slow.sh", "trap '' TERM; sleep 1000 & echo \"$$ $!\" > " + pids + "; wait");
        Path quick = dir.resolve("quick.ran");
        // the next hook records, when it starts, whether the slow one's group still has a member:
        // one look from inside, at the moment that matters, instead of a look from outside at a
        // moment that may come too soon to catch two hooks at once
        // (live members read from /proc: zombies not yet reaped do not count)
        Path onFollower = script(dir, "quick.sh", "exec /bin/bash -c '"
                + "if [ ! -s " + pids + " ]; then echo before-slow; else read pg job < " + pids + "; alive=no; "
                + "for f in /proc/[0-9]*/stat; do read -r l < $f 2>/dev/null || continue; r=${l##*) }; set -- $r; "
                + "if [ \"$3\" = \"$pg\" ] && [ \"$1\" != Z ]; then alive=yes; fi; done; "
                + "if [ $alive = yes ]; then echo slow-alive; else echo after-slow; fi; fi > " + quick + ".tmp; "
                + "mv " + quick + ".tmp " + quick + "'");
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(null, hooks(slow, onFollower, null, 1500), BASE, dir.resolve("state"),
                ev::accept)) {
            long t0 = System.nanoTime();
            s.runHook(Effect.Hook.ON_MASTER, 1, "node-a");
            s.runHook(Effect.Hook.ON_FOLLOWER, 2, "node-b");
            await("the slow hook wrote its pids", LONG, () -> readOrEmpty(pids).endsWith("\n"));
            String[] p = readOrEmpty(pids).trim().split(" ");
            int pgid = Integer.parseInt(p[0]);
            assertEquals(pgid, Signals.pgrpOf(Integer.parseInt(p[1])), "the hook's job is in the hook's group");
            await("the slow hook's group is killed after its time-out", TestSupport.patienceAfter(Duration.ofMillis(1500)), () -> liveMembers(pgid).isEmpty());
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(1500), "killed before its time-out");
            await("the next hook ran once the slow one was killed", LONG, () -> quick.toFile().exists());
            assertEquals("after-slow\n", readOrEmpty(quick), "hooks run one at a time: the next waits for the slow one's group");
        }
    }

    @Test
    void fenceSuccessFailureAndTimeOutAreReported(@TempDir Path dir) throws Exception {
        Path envDump = dir.resolve("fence.env");
        Path ok = script(dir, "ok.sh", "env > " + envDump + "; exit 0");
        Path bad = script(dir, "bad.sh", "echo cannot reach the PDU >&2; exit 3");
        Path hang = script(dir, "hang.sh", "exec sleep 1000");
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(null, hooks(null, null, ok, 2000), BASE, dir.resolve("s1"), ev::accept)) {
            s.runFence("node-b", 6, 7);
            Event.FenceResult r = ev.nextEvent(Event.FenceResult.class, LONG);
            assertEquals("node-b", r.oldMaster());
            assertEquals(6, r.oldTerm());
            assertTrue(r.succeeded(), r.detail());
            Map<String, String> vars = quorumdVars(readOrEmpty(envDump));
            assertEquals(new TreeMap<>(Map.of("QUORUMD_CLUSTER", "payments", "QUORUMD_NODE", "node-a",
                    "QUORUMD_TERM", "7", "QUORUMD_MASTER", "node-a", "QUORUMD_ROLE", "master",
                    "QUORUMD_PEERS", "node-a,node-b,node-c", "QUORUMD_OLD_MASTER", "node-b", "QUORUMD_OLD_TERM", "6")),
                    vars);
        }
        try (Supervisor s = new Supervisor(null, hooks(null, null, bad, 2000), BASE, dir.resolve("s2"), ev::accept)) {
            s.runFence("node-c", 8, 9);
            Event.FenceResult r = ev.nextEvent(Event.FenceResult.class, LONG);
            assertFalse(r.succeeded());
            assertEquals("node-c", r.oldMaster());
            assertEquals(8, r.oldTerm());
            assertTrue(r.detail().contains("exit status 3"), r.detail());
        }
        try (Supervisor s = new Supervisor(null, hooks(null, null, hang, 300), BASE, dir.resolve("s3"), ev::accept)) {
            long t0 = System.nanoTime();
            s.runFence("node-c", 10, 11);
            TestSupport.Events.Seen seen = ev.next(Event.FenceResult.class, LONG);
            Event.FenceResult r = (Event.FenceResult) seen.event();
            assertFalse(r.succeeded());
            assertTrue(r.detail().contains("timed out"), r.detail());
            assertTrue(seen.atNanos() - t0 >= TimeUnit.MILLISECONDS.toNanos(300));
            ev.none(Duration.ofMillis(200));
        }
        try (Supervisor s = new Supervisor(null, HookSpec.none(), BASE, dir.resolve("s4"), ev::accept)) {
            s.runFence("node-c", 12, 13);
            Event.FenceResult r = ev.nextEvent(Event.FenceResult.class, LONG);
            assertEquals(new Event.FenceResult("node-c", 12, false, "no fence hook configured"), r);
        }
    }

    @Test
    void aHookThatCannotRunIsAFailedFence(@TempDir Path dir) throws Exception {
        Path notExecutable = dir.resolve("plain.txt");
        java.nio.file.Files.writeString(notExecutable, "exit 0\n");
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(null, hooks(null, null, notExecutable, 2000), BASE, dir.resolve("s"),
                ev::accept)) {
            s.runFence("node-b", 1, 2);
            Event.FenceResult r = ev.nextEvent(Event.FenceResult.class, LONG);
            assertFalse(r.succeeded());
            assertTrue(r.detail().contains("exit status 126"), r.detail());
        }
    }

    /** Item 1 of issue 11: the on_follower of a graceful stop ran half-way and was SIGKILLed. */
    @Test
    void closeWaitsForTheRunningHookToFinish(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("follower.out");
        Path onFollower = script(dir, "follower.sh", "echo start >> " + out + "; sleep 0.3; echo done >> " + out);
        TestSupport.Events ev = new TestSupport.Events();
        Supervisor s = new Supervisor(null, hooks(null, onFollower, null, 5000), BASE, dir.resolve("state"),
                ev::accept);
        s.runHook(Effect.Hook.ON_FOLLOWER, 3, "node-b");
        await("the hook started", LONG, () -> readOrEmpty(out).startsWith("start"));
        s.close();
        assertEquals("start\ndone\n", readOrEmpty(out), "close() let the hook finish");
    }

    @Test
    void closeWaitsAtMostHooksTimeoutThenKillsTheHook(@TempDir Path dir) throws Exception {
        Path pid = dir.resolve("pid");
        Path onFollower = script(dir, "follower.sh", "echo $$ > " + pid + ".tmp; mv " + pid + ".tmp " + pid
                + "; exec sleep 1000");
        TestSupport.Events ev = new TestSupport.Events();
        Supervisor s = new Supervisor(null, hooks(null, onFollower, null, 800), BASE, dir.resolve("state"),
                ev::accept);
        s.runHook(Effect.Hook.ON_FOLLOWER, 3, "node-b");
        await("the hook started", LONG, () -> Files.exists(pid));
        int pgid = Integer.parseInt(readOrEmpty(pid).trim());
        long t0 = System.nanoTime();
        s.close();
        long took = System.nanoTime() - t0;
        assertTrue(liveMembers(pgid).isEmpty(), "the hook's group is gone once close() returns");
        assertTrue(took < TimeUnit.MILLISECONDS.toNanos(800 + 3000), "close() took " + TestSupport.ms(took) + " ms");
    }

    /** Item 2 of issue 11: on_master and on_follower ran at the same time, or finished in reverse order. */
    @Test
    void hooksRunOneAtATimeInTheOrderOfTheRoleChanges(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("log");
        String body = "echo \"$QUORUMD_ROLE $QUORUMD_TERM start\" >> " + log + "; sleep 0.2; "
                + "echo \"$QUORUMD_ROLE $QUORUMD_TERM end\" >> " + log;
        Path onMaster = script(dir, "master.sh", body);
        Path onFollower = script(dir, "follower.sh", body);
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(null, hooks(onMaster, onFollower, null, 5000), BASE, dir.resolve("state"),
                ev::accept)) {
            s.runHook(Effect.Hook.ON_MASTER, 1, "node-a");
            s.runHook(Effect.Hook.ON_FOLLOWER, 2, "node-b");
            await("both hooks ran", LONG, () -> readOrEmpty(log).contains("follower 2 end"));
            assertEquals("master 1 start\nmaster 1 end\nfollower 2 start\nfollower 2 end\n", readOrEmpty(log));
        }
    }

    @Test
    void aNewerRoleChangeCancelsAQueuedHookOfTheOppositeRole(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("log");
        String body = "echo \"$QUORUMD_ROLE $QUORUMD_TERM start\" >> " + log + "; sleep 0.3; "
                + "echo \"$QUORUMD_ROLE $QUORUMD_TERM end\" >> " + log;
        Path onMaster = script(dir, "master.sh", body);
        Path onFollower = script(dir, "follower.sh", body);
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(null, hooks(onMaster, onFollower, null, 5000), BASE, dir.resolve("state"),
                ev::accept)) {
            s.runHook(Effect.Hook.ON_MASTER, 1, "node-a");     // starts at once
            s.runHook(Effect.Hook.ON_FOLLOWER, 2, "node-b");   // queued behind it...
            s.runHook(Effect.Hook.ON_MASTER, 3, "node-a");     // ...and cancelled by this one
            await("the newest hook ran", LONG, () -> readOrEmpty(log).contains("master 3 end"));
            assertEquals("master 1 start\nmaster 1 end\nmaster 3 start\nmaster 3 end\n", readOrEmpty(log));
        }
    }

    /** Item 3 of issue 11: `sleep 60 &` in a hook outlived it, and kept a reader thread blocked. */
    @Test
    void whatAHookLeavesInItsGroupEndsWithIt(@TempDir Path dir) throws Exception {
        Path pids = dir.resolve("pids");
        Path onMaster = script(dir, "master.sh", "sleep 60 & echo \"$$ $!\" > " + pids + ".tmp; mv " + pids
                + ".tmp " + pids + "; exit 0");
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(null, hooks(onMaster, null, null, 30_000), BASE, dir.resolve("state"),
                ev::accept)) {
            s.runHook(Effect.Hook.ON_MASTER, 1, "node-a");
            await("the hook wrote its pids", LONG, () -> Files.exists(pids));
            String[] p = readOrEmpty(pids).trim().split(" ");
            int pgid = Integer.parseInt(p[0]);
            int child = Integer.parseInt(p[1]);
            await("the hook's background child is killed with its group", LONG,
                    () -> !Signals.processAlive(child) && liveMembers(pgid).isEmpty());
            await("no thread reads the hook's output any more", LONG,
                    () -> Thread.getAllStackTraces().keySet().stream()
                            .noneMatch(t -> t.getName().equals("quorumd-hook-out-" + pgid) && t.isAlive()));
        }
    }
}
