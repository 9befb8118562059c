package io.quorumd.command;

import static io.quorumd.command.TestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignalsTest {
    private static final Duration LONG = TestSupport.PATIENCE;

    @Test
    void killTellsANonexistentProcessApart() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        assertEquals(Signals.Delivery.NO_SUCH_PROCESS, Signals.kill((int) p.pid(), 0));
        assertEquals(Signals.Delivery.SENT, Signals.kill((int) ProcessHandle.current().pid(), 0));
    }

    @Test
    void groupAndAllProcessTargetsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Signals.signalGroup(0, 0));
        assertThrows(IllegalArgumentException.class, () -> Signals.signalGroup(1, 0));
        assertThrows(IllegalArgumentException.class, () -> Signals.signalGroup(-5, 0));
        assertThrows(IllegalArgumentException.class, () -> Signals.kill(0, 0));
        assertThrows(IllegalArgumentException.class, () -> Signals.kill(-1, 0));
    }

    @Test
    void aGroupOfZombiesIsNotAlive(@TempDir Path dir) throws Exception {
        // The leader never reaps its children: killed, they stay zombies in the group, and
        // kill(-pgid, 0) still succeeds; groupAlive must say no once the leader is gone too.
        Process p = new ProcessBuilder("setsid", "--", "sh", "-c",
                "sleep 1000 & sleep 1000 & exec sleep 1000").start();
        int pgid = (int) p.pid();
        try {
            await("three sleeps", LONG, () -> Signals.groupMembers(pgid).size() == 3);
            assertTrue(Signals.groupAlive(pgid));
            List<Integer> members = Signals.groupMembers(pgid);
            members.remove(Integer.valueOf(pgid));
            for (int child : members) {
                Signals.kill(child, Signals.SIGKILL);
            }
            await("the children are zombies of the leader", LONG,
                    () -> Signals.groupMembers(pgid).equals(List.of(pgid)));
            assertTrue(Signals.groupAlive(pgid), "the leader lives");
            assertEquals(Signals.Delivery.SENT, Signals.signalGroup(pgid, 0));
        } finally {
            Signals.signalGroup(pgid, Signals.SIGKILL);
        }
        p.waitFor();
        await("the group has no live process", LONG, () -> !Signals.groupAlive(pgid));
        assertEquals(List.of(), TestSupport.liveMembers(pgid));
        // Where PID 1 does not reap, the orphaned zombies keep kill(-pgid, 0) succeeding: groupAlive
        // must not rely on it. kill(-pgid, 0) agrees with /proc (zombies counted), whichever it is.
        boolean zombiesLeft = false;
        Signals.Delivery d = null;
        for (int i = 0; i < 100; i++) {
            boolean before = !inGroupCountingZombies(pgid).isEmpty();
            d = Signals.signalGroup(pgid, 0);
            boolean after = !inGroupCountingZombies(pgid).isEmpty();
            if (before == after) {   // no reaping in between: the answer is comparable
                zombiesLeft = before;
                break;
            }
        }
        assertEquals(zombiesLeft ? Signals.Delivery.SENT : Signals.Delivery.NO_SUCH_PROCESS, d,
                "kill(-pgid, 0) with " + (zombiesLeft ? "zombies " + inGroupCountingZombies(pgid) : "nothing") + " left in the group");
        assertFalse(Signals.groupAlive(pgid), "zombies or not, nothing in the group is alive");
    }

    /** Every process in the group from /proc, zombies included. */
    private static List<Integer> inGroupCountingZombies(int pgid) throws Exception {
        List<Integer> l = new java.util.ArrayList<>();
        try (var ds = java.nio.file.Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : ds) {
                int pid = Integer.parseInt(p.getFileName().toString());
                String stat;
                try {
                    stat = java.nio.file.Files.readString(p.resolve("stat"));
                } catch (java.io.IOException gone) {
                    continue;
                }
                Signals.Stat st = Signals.parseStat(pid, stat);
                if (st != null && st.pgrp() == pgid) l.add(pid);
            }
        }
        return l;
    }

    @Test
    void statIsParsedAfterTheLastParenthesis() {
        Signals.Stat st = Signals.parseStat(42, "42 (we ird) (name)) S 1 777 777 0 -1 4194560");
        assertEquals(new Signals.Stat(42, 'S', 1, 777), st);
        assertEquals(null, Signals.parseStat(42, "garbage"));
        // the fields' edges: nothing after ") ", fewer than three fields, an empty state, a bad number
        assertEquals(null, Signals.parseStat(42, "42 (x)"));
        assertEquals(null, Signals.parseStat(42, "42 (x) "));
        assertEquals(new Signals.Stat(42, 'R', 1, 2), Signals.parseStat(42, "42 (x) R 1 2"));
        assertEquals(null, Signals.parseStat(42, "42 (x) R 1"));
        assertEquals(null, Signals.parseStat(42, "42 (x)  1 2"));
        assertEquals(null, Signals.parseStat(42, "42 (x) R 1 two"));
        // a zombie whose only thread is itself is not alive; any other state is
        assertTrue(new Signals.Stat(1, 'S', 0, 1).alive());
        assertTrue(new Signals.Stat(Integer.MAX_VALUE, 'D', 0, 1).alive());
        assertFalse(new Signals.Stat(Integer.MAX_VALUE, 'Z', 0, 1).alive(), "no task/ to read: not alive");
        assertTrue(new Signals.Stat((int) ProcessHandle.current().pid(), 'Z', 0, 1).alive(),
                "a zombie leader whose other threads still run (this JVM's task/ has many) counts as alive");
    }

    @Test
    void everySignalTheConfigNamesHasItsNumberAndBack() {
        String[] names = {"HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM"};
        int[] numbers = {1, 2, 3, 9, 10, 12, 15};
        for (int i = 0; i < names.length; i++) {
            assertEquals(numbers[i], Signals.number(names[i]), names[i]);
            assertEquals(numbers[i], Signals.number(" sig" + names[i].toLowerCase(java.util.Locale.ROOT) + " "), names[i]);
            assertEquals(names[i], Signals.name(numbers[i]));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Signals.name(14));
        assertTrue(e.getMessage().contains("14"), e.getMessage());
    }

    @Test
    void bootTimeRunsAheadOfMonotonicAndNanoTimeIsMonotonic() {
        long mono = Signals.monotonicNanos();
        long nano = System.nanoTime();
        long boot = Signals.bootTimeNanos();
        assertTrue(boot >= mono, "CLOCK_BOOTTIME counts suspended time too");
        assertTrue(Math.abs(nano - mono) < Duration.ofSeconds(1).toNanos(),
                "System.nanoTime() is CLOCK_MONOTONIC on Linux: " + nano + " vs " + mono);
        long up = TestSupport.uptimeCs();
        long bootCs = Signals.bootTimeNanos() / 10_000_000L;
        assertTrue(bootCs - up >= 0 && bootCs - up <= 2, "/proc/uptime is CLOCK_BOOTTIME: " + up + " vs " + bootCs);
    }

    @Test
    void signalNamesAsTheConfigWritesThem() {
        assertEquals(15, Signals.number("TERM"));
        assertEquals(15, Signals.number("sigterm"));
        assertEquals(2, Signals.number("SIGINT"));
        assertEquals(9, Signals.number("KILL"));
        assertEquals(10, Signals.number("USR1"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Signals.number("FOO"));
        assertTrue(e.getMessage().contains("FOO"));
    }

    @Test
    void aGroupNoProcessHasIsNotAliveAndItsMembersAreNone() {
        int unused = 4_000_000 + (int) (ProcessHandle.current().pid() % 100_000);   // above pid_max's default
        assertFalse(Signals.groupAlive(unused));
        assertTrue(Signals.groupMembers(unused).isEmpty());
        int own = Signals.pgrpOf((int) ProcessHandle.current().pid());
        assertTrue(Signals.groupAlive(own), "this JVM's own group has a live member: the JVM");
    }
}
