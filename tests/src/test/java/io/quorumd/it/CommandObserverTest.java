package io.quorumd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandObserverTest {
    @TempDir
    Path dir;

    @Test
    void aRegisteredGroupRunsUntilItIsEmptyAndTwoAtOnceAreAnOverlap() throws Exception {
        Process a = group();
        Process b = group();
        try (CommandObserver o = CommandObserver.ofRunDirectory(dir)) {
            Files.writeString(dir.resolve("cmd-node-a-3-" + a.pid()), "1764690000.5\n");
            List<CommandObserver.Run> running = o.running();
            assertEquals(1, running.size(), running.toString());
            CommandObserver.Run r = running.get(0);
            assertEquals("node-a", r.node());
            assertEquals(3, r.term());
            assertEquals(a.pid(), r.hostPid());
            assertEquals(1_764_690_000_500_000L, r.startEpochMicros());
            assertTrue(o.overlaps().isEmpty());

            Files.writeString(dir.resolve("cmd-b-4-" + b.pid()), "");
            assertEquals(2, o.running().size());
            assertFalse(o.overlaps().isEmpty(), "two groups alive at once");

            a.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            List<CommandObserver.Run> left = o.running();
            assertEquals(List.of(b.pid()), left.stream().map(CommandObserver.Run::hostPid).toList());
            CommandObserver.Run ended = o.latest(r);
            assertFalse(ended.running());
            assertTrue(ended.goneNanos() >= ended.lastSeenNanos(), ended.toString());
            o.checkHealthy();
        } finally {
            a.destroyForcibly();
            b.destroyForcibly();
        }
    }

    @Test
    void theDemoCommandIsACommandAndTheAgentsWrapperIsNot() {
        assertTrue(CommandObserver.isCommand(new String[] {"quorumd-demo", "infinity"}));
        assertTrue(CommandObserver.isCommand(new String[] {"/bin/bash", "/usr/local/bin/quorumd-demo"}));
        assertFalse(CommandObserver.isCommand(new String[] {"/usr/lib/quorumd/exec", "quorumd-demo"}));
        assertFalse(CommandObserver.isCommand(new String[0]));
    }

    @Test
    void epochRealtimeIsReadToTheMicrosecond() {
        assertEquals(1_764_690_000_123_456L, CommandObserver.epochRealtimeMicros("1764690000.123456"));
        assertEquals(1_764_690_000_120_000L, CommandObserver.epochRealtimeMicros("1764690000.12"));
        assertEquals(1_764_690_000_000_000L, CommandObserver.epochRealtimeMicros("1764690000"));
        assertEquals(-1, CommandObserver.epochRealtimeMicros(""));
    }

    /** A process that leads a group of its own (setsid), as the agent starts a command. */
    private static Process group() throws Exception {
        Process p = new ProcessBuilder("setsid", "sleep", "60").start();
        // setsid execs sleep in place when it is not already a group leader: the pid is the group
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat")).contains("sleep")) {
            if (System.nanoTime() > deadline) throw new AssertionError("setsid did not exec sleep");
            Thread.sleep(5);
        }
        return p;
    }

    @Test
    void aLeaderInsideExecveOrTheWrapperIsNeverSettledAsSomethingElse() {
        assertFalse(CommandObserver.settlesAsOther(""), "an empty command line: a process inside execve");
        assertFalse(CommandObserver.settlesAsOther("/usr/bin/sh\0/usr/share/quorumd/scripts/quorumd-wrapper.sh\0--parked\0"
                + "/var/lib/quorumd/command.pgid\0/usr/local/bin/quorumd-demo\0"), "a parked wrapper");
        assertTrue(CommandObserver.settlesAsOther("/usr/bin/bash\0/usr/share/quorumd/scripts/quorumd-watchdog.sh\0"
                + "15\0100\0parked\0"), "a watchdog");
    }
}
