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
}
