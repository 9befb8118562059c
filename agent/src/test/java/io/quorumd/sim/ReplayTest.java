package io.quorumd.sim;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A seed is a schedule: the same seed gives the same trace, step for step, traced or not. */
class ReplayTest {
    @Test
    void theSameSeedReplaysTheSameTrace() {
        for (long seed : new long[] {3, 42, 977}) {
            List<String> a = traced(seed);
            List<String> b = traced(seed);
            assertTrue(a.size() > 100, "seed " + seed + " ran only " + a.size() + " trace lines");
            assertEquals(a, b, "seed " + seed + " did not replay identically");
        }
        assertNotEquals(traced(3), traced(4), "different seeds must give different schedules");
    }

    @Test
    void tracingDoesNotChangeTheRun() {
        for (long seed = 100; seed < 108; seed++) {
            Simulation.Result quiet = new Simulation(SimParams.random(seed, 0), Mutant.none(), false).run();
            Simulation.Result loud = new Simulation(SimParams.random(seed, 0), Mutant.none(), true).run();
            assertEquals(quiet, loud, "seed " + seed + ": a traced run differs from an untraced one");
        }
    }

    @Test
    void everyParameterIsDrawnFromTheSeed() {
        assertEquals(SimParams.random(7, 0).describe(), SimParams.random(7, 0).describe());
        assertEquals(5, SimParams.random(7, 5).nodes);
    }

    private static List<String> traced(long seed) {
        Simulation sim = new Simulation(SimParams.random(seed, 0), Mutant.none(), true);
        sim.run();
        return sim.trace.lines();
    }
}
