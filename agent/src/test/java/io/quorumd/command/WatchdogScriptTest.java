package io.quorumd.command;

import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.liveMembers;
import static io.quorumd.command.TestSupport.readOrEmpty;
import static io.quorumd.command.TestSupport.uptimeCs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The watchdog script's line protocol, driven directly over its stdin. */
class WatchdogScriptTest {
    private static final Duration LONG = TestSupport.PATIENCE;
    private final List<Integer> groups = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (int g : groups) {
            Signals.signalGroup(g, Signals.SIGKILL);
        }
        processes.forEach(Process::destroyForcibly);
    }

    /** A process group whose members ignore TERM (so only SIGKILL ends it) or not. */
    private int group(Path dir, boolean ignoreTerm) throws Exception {
        String trap = ignoreTerm ? "trap '' TERM; " : "";
        Process p = new ProcessBuilder("setsid", "--", "sh", "-c", trap + "sleep 1000 & exec sleep 1000")
                .redirectErrorStream(true).redirectOutput(dir.resolve("group.out").toFile()).start();
        processes.add(p);
        int pgid = (int) p.pid();
        groups.add(pgid);
        await("the group runs", LONG, () -> liveMembers(pgid).size() == 2);
        return pgid;
    }

    private Process watchdog(Path dir, int graceCs) throws Exception {
        try (Spawner sp = new Spawner()) {
            List<String> cmd = new ArrayList<>(sp.watchdog());
            cmd.addAll(List.of("15", Integer.toString(graceCs), "test"));
            Process w = new ProcessBuilder(cmd).redirectError(dir.resolve("watchdog.log").toFile()).start();
            processes.add(w);
            return w;
        }
    }

    private static void send(Process w, String text) throws Exception {
        OutputStream in = w.getOutputStream();
        in.write(text.getBytes(StandardCharsets.US_ASCII));
        in.flush();
    }

    private static String firstLine(Process w) throws Exception {
        return new BufferedReader(new InputStreamReader(w.getInputStream(), StandardCharsets.US_ASCII)).readLine();
    }

    @Test
    void quitReleasesTheGroupWithoutASignal(@TempDir Path dir) throws Exception {
        int pgid = group(dir, false);
        Process w = watchdog(dir, 100);
        long now = uptimeCs();
        send(w, "D " + (now + 6000) + " " + (now + 6100) + "\nG " + pgid + "\n");
        assertEquals("armed " + pgid + " " + (now + 6000) + " " + (now + 6100), firstLine(w));
        send(w, "Q\n");
        assertTrue(w.waitFor(5, TimeUnit.SECONDS));
        assertEquals(0, w.exitValue());
        assertEquals(2, liveMembers(pgid).size(), "Q sends nothing");
        assertTrue(readOrEmpty(dir.resolve("watchdog.log")).contains("released by the agent"));
    }

    @Test
    void endOfInputBeforeAGroupLeavesNothingToDo(@TempDir Path dir) throws Exception {
        Process w = watchdog(dir, 100);
        w.getOutputStream().close();
        assertTrue(w.waitFor(5, TimeUnit.SECONDS));
        assertEquals(0, w.exitValue());
        assertTrue(readOrEmpty(dir.resolve("watchdog.log")).contains("nothing to guard"));
    }

    @Test
    void wakingPastTheKillDeadlineKillsWithNoGrace(@TempDir Path dir) throws Exception {
        int pgid = group(dir, true);
        Process w = watchdog(dir, 500);
        long now = uptimeCs();
        long t0 = System.nanoTime();
        // as if the host had been frozen through both deadlines
        send(w, "D " + (now - 100) + " " + (now - 50) + "\nG " + pgid + "\n");
        await("the group is killed", LONG, () -> liveMembers(pgid).isEmpty());
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(400), "no grace period");
        assertTrue(w.waitFor(5, TimeUnit.SECONDS));
        String log = readOrEmpty(dir.resolve("watchdog.log"));
        assertTrue(log.contains("SIGKILL sent"), log);
        assertFalse(log.contains("signal 15 sent"), log);
    }

    @Test
    void endOfInputSignalsAtOnceAndKillsAfterTheGrace(@TempDir Path dir) throws Exception {
        int pgid = group(dir, true);
        Process w = watchdog(dir, 40);
        long now = uptimeCs();
        send(w, "D " + (now + 6000) + " " + (now + 6100) + "\nG " + pgid + "\n");
        assertTrue(firstLine(w).startsWith("armed "));
        long t0 = System.nanoTime();
        w.getOutputStream().close();
        await("the group is killed", LONG, () -> liveMembers(pgid).isEmpty());
        long took = System.nanoTime() - t0;
        assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(400 - 20), "SIGKILL before the grace: " + took / 1_000_000);
        assertTrue(took < TimeUnit.MILLISECONDS.toNanos(1000), "SIGKILL long after the grace: " + took / 1_000_000);
        assertTrue(w.waitFor(5, TimeUnit.SECONDS), "the watchdog exits once the group is empty");
        String log = readOrEmpty(dir.resolve("watchdog.log"));
        assertTrue(log.contains("agent gone"), log);
        assertTrue(log.contains("signal 15 sent"), log);
        assertTrue(log.contains("SIGKILL sent"), log);
    }

    @Test
    void deadlinesAreFrozenOnceTheStopSignalWentOut(@TempDir Path dir) throws Exception {
        int pgid = group(dir, true);
        Process w = watchdog(dir, 100);
        long now = uptimeCs();
        send(w, "D " + (now + 5) + " " + (now + 60) + "\nG " + pgid + "\n");
        assertTrue(firstLine(w).startsWith("armed "));
        await("the stop signal went out", LONG,
                () -> readOrEmpty(dir.resolve("watchdog.log")).contains("signal 15 sent"));
        long later = uptimeCs() + 6000;
        send(w, "D " + later + " " + (later + 100) + "\n");
        await("SIGKILL at the first kill deadline all the same", LONG, () -> liveMembers(pgid).isEmpty());
        assertTrue(uptimeCs() < later);
    }

    @Test
    void aLineSplitByATimeOutIsPutBackTogether(@TempDir Path dir) throws Exception {
        int pgid = group(dir, false);
        Process w = watchdog(dir, 100);
        String g = "G " + pgid + "\n";
        send(w, g.substring(0, 3));
        // a pause longer than the watchdog's longest wait (0.5 s) while it holds half a line
        TestSupport.sleepMillis(700);
        send(w, g.substring(3));
        assertEquals("armed " + pgid + " never never", firstLine(w));
        send(w, "Q\n");
        assertTrue(w.waitFor(5, TimeUnit.SECONDS));
    }

    @Test
    void theWrapperNeverExecsWithoutGo(@TempDir Path dir) throws Exception {
        try (Spawner sp = new Spawner()) {
            Path marker = dir.resolve("ran");
            List<String> cmd = new ArrayList<>(sp.wrapper());
            cmd.addAll(List.of(dir.resolve(CommandRecord.PGID_FILE).toString(), "run-1", "touch", marker.toString()));
            Process p = new ProcessBuilder(cmd).start();
            assertEquals("quorumd-wrapper ready pgid=" + p.pid(), firstLine(p));
            p.getOutputStream().close();
            assertTrue(p.waitFor(5, TimeUnit.SECONDS));
            assertEquals(125, p.exitValue(), "the agent died before go: the wrapper gives up");
            assertFalse(Files.exists(marker));
            assertEquals("pgid=" + p.pid() + " run=run-1\n", readOrEmpty(dir.resolve(CommandRecord.PGID_FILE)));
            assertEquals(p.pid(), CommandRecord.readPgid(dir, "run-1"));
        }
    }

    @Test
    void deadlinesAreConvertedToUptimeRoundedEarlier() {
        long now = System.nanoTime();
        long up = uptimeCs();
        String[] f = Watchdog.deadlineLine(now + TimeUnit.SECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(500))
                .trim().split(" ");
        assertEquals("D", f[0]);
        long stop = Long.parseLong(f[1]);
        long kill = Long.parseLong(f[2]);
        assertTrue(stop >= up + 100 - 2 && stop <= up + 100, "stop " + stop + " vs uptime " + up);
        assertTrue(kill - stop >= 49 && kill - stop <= 51, "kill " + kill + " vs stop " + stop);
        String[] forever = Watchdog.deadlineLine(now + Long.MAX_VALUE - 1, Long.MAX_VALUE).trim().split(" ");
        assertTrue(Long.parseLong(forever[1]) > up && Long.parseLong(forever[2]) > up,
                "a lease without end must not wrap into the past: " + String.join(" ", forever));
    }
}
