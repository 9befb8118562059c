package io.quorumd.sim;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each deliberately broken node must be caught by the rule it breaks within 10,000 seeds. A kill
 * counts only on a seed where the real node breaks nothing (or something else), so the checker is
 * proven to see the mutant's own damage, not a defect the real core may have.
 */
class MutantTest {
    private static final long MAX_SEEDS = 10_000;

    @ParameterizedTest
    @ValueSource(strings = {"no-handover-wait", "forget-vote", "no-stickiness", "send-before-persist", "long-lease"})
    void theCheckerCatchesTheMutant(String name) {
        Mutant mutant = Mutant.byName(name);
        Set<String> rules = Mutant.signature(name);
        long killedAt = -1;
        long tried = 0;
        for (long seed = 1; seed <= MAX_SEEDS && killedAt < 0; seed++) {
            tried++;
            SimParams p = SimParams.random(seed, 0);
            Simulation.Result m = new Simulation(p, mutant, false).run();
            if (m.violation() == null || !rules.contains(m.violation().rule())) continue;
            Simulation.Result base = new Simulation(SimParams.random(seed, 0), Mutant.none(), false).run();
            if (base.violation() == null || !base.violation().rule().equals(m.violation().rule())) {
                killedAt = seed;
                System.out.println("mutant " + name + " caught at seed " + seed + " after " + tried + " schedules: "
                        + m.violation().headline());
            }
        }
        long at = killedAt;
        assertTrue(at > 0, () -> "mutant " + name + " survived " + MAX_SEEDS + " schedules: the checker does not see " + rules);
    }
}
