package io.quorumd.sim;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real core against {@code quorumd.sim.seeds} chaos schedules (default 10,000) across 3, 5 and
 * 7 nodes: no safety and no liveness violation. A failure names every broken rule, how often, and
 * the first schedules with their traces; replay one with {@code make sim SEED=s}.
 */
class SimulationTest {
    static long seeds() {
        String s = System.getProperty("quorumd.sim.seeds", "10000");
        try {
            return Long.parseLong(s.isBlank() ? "10000" : s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("quorumd.sim.seeds must be a number of schedules, got '" + s + "'");
        }
    }

    @Test
    void theRealCoreKeepsEveryGuaranteeUnderChaos() {
        long n = seeds();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        SimMain.Summary s = SimMain.runSchedules(1, n, 0, Mutant.none(), null, null, 3, 60, out);
        System.out.printf("simulation: %d schedules in %.1f s (%.0f/s), %d steps, %.0f s virtual, %d split elections%n",
                s.schedules, s.wallNanos / 1e9, s.schedulesPerSecond(), s.steps, s.virtualNanos / 1e9, s.contestedTerms);
        assertEquals(n, s.schedules);
        assertTrue(s.steps > 1000 * n, "schedules must actually run the nodes: " + s.steps + " steps");
        assertEquals(0, s.violations, () -> s.violations + " of " + n + " schedules broke a guarantee " + s.byRule
                + "; the first reports:\n" + buf.toString(StandardCharsets.UTF_8));
    }

    /**
     * The store's schedules exercise issue 14 (snapshots every 8-32 entries, transfers in small
     * chunks, log disks that fail): over 100 of them some snapshots are taken, some installed from a
     * master and some log writes fail, and no guarantee breaks.
     */
    @Test
    void theStoresSchedulesSnapshotInstallAndFailLogWrites() {
        Mutant store = Mutant.none();
        store.kv = true;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        SimMain.Summary s = SimMain.runSchedules(1, 100, 0, store, null, null, 3, 60, out);
        assertEquals(0, s.violations, () -> s.byRule + "\n" + buf.toString(StandardCharsets.UTF_8));
        assertTrue(s.snapshotsTaken > 100, "snapshots taken: " + s.snapshotsTaken);
        assertTrue(s.snapshotsInstalled > 10 && s.installingSchedules > 10,
                "snapshots installed: " + s.snapshotsInstalled + " in " + s.installingSchedules + " schedules");
        assertTrue(s.logWriteFailures > 0, "log writes failed: " + s.logWriteFailures);
    }
}
