package io.quorumd.sim;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each deliberately broken node must be caught by the rule it breaks within 10,000 seeds
 * (forget-vote: 20,000, see {@link #maxSeeds}). A kill counts only on a seed where the real node
 * breaks nothing (or something else), so the checker is proven to see the mutant's own damage, not
 * a defect the real core may have. The rule each must be caught by is {@link Mutant#signature}:
 * stale-token by fencing token, no-stop-wait by command permission, eager-certificate by
 * exclusive command (the simulator README lists them all, with the first catching seed).
 *
 * <p>The mutants of the replicated log run on schedules with the store on, the election mutants on
 * schedules with it off (the schedules they were proven on); the control run of a seed is the real
 * node in the same world ({@link Mutant#baseFor}). First catches at this writing (since the store's
 * schedules snapshot, compact and fail log disks, issue 14): commit-without-majority seed 1 (commit
 * durability), ack-before-persist seed 1 (log persist-before-ack), forget-log-tail seed 5 (state
 * machine safety), ignore-log-up-to-date seed 5 (state machine safety; seed 3 by the log's own check, a
 * core exception, until issue 12 stopped an idle master's appends),
 * read-without-confirmation seed 224 (linearizability; before issue 14 seed 71: a get at a master
 * that had lost its majority, behind a REJECT partition, returned the value a newer master had
 * already overwritten), compact-uncommitted seed 1 (core exception: the log refuses to compact past
 * the commit index), ack-snapshot-before-durable seed 1 (log persist-before-ack).
 */
class MutantTest {
    private static final long MAX_SEEDS = 10_000;

    /**
     * A forgotten vote can be given twice only when a vote request of the same term reaches the
     * restarted node after its first t (the simulator README says why), and few schedules do that:
     * seed 7970 was the only one of the first 10,000 until the candidate kept its pre-vote for its
     * whole candidacy (seed 753205), which changed that schedule; since then none of seeds 1-10,000
     * and one of 10,001-30,000 (seed 10747) catch it. Since the core probes a silent master itself
     * (e354c6b) and the simulator answers those probes, seed 10747 no longer races and none of
     * seeds 1-50,000 catch it; its world leaves probes unanswered ({@link Mutant#silentProbes}), which
     * brings seed 10747 back. Since a follower leaves a hand-over's term to the named successor
     * (the step-down --to race), seed 5175 is the first to catch it (one vote per term).
     */
    private static long maxSeeds(String name) {
        return name.equals("forget-vote") ? 2 * MAX_SEEDS : MAX_SEEDS;
    }

    @ParameterizedTest
    @ValueSource(strings = {"no-handover-wait", "forget-vote", "no-stickiness", "send-before-persist", "long-lease",
            "stale-token", "no-stop-wait", "eager-certificate", "ignore-fence", "commit-without-majority",
            "read-without-confirmation", "ack-before-persist", "forget-log-tail", "ignore-log-up-to-date",
            "compact-uncommitted", "ack-snapshot-before-durable"})
    void theCheckerCatchesTheMutant(String name) {
        Mutant mutant = Mutant.byName(name);
        Set<String> rules = Mutant.signature(name);
        long killedAt = -1;
        long tried = 0;
        long max = maxSeeds(name);
        for (long seed = 1; seed <= max && killedAt < 0; seed++) {
            tried++;
            SimParams p = SimParams.random(seed, 0);
            Simulation.Result m = new Simulation(p, mutant, false).run();
            if (m.violation() == null || !rules.contains(m.violation().rule())) continue;
            Simulation.Result base = new Simulation(SimParams.random(seed, 0), Mutant.baseFor(mutant), false).run();
            if (base.violation() == null || !base.violation().rule().equals(m.violation().rule())) {
                killedAt = seed;
                System.out.println("mutant " + name + " caught at seed " + seed + " after " + tried + " schedules: "
                        + m.violation().headline());
            }
        }
        long at = killedAt;
        assertTrue(at > 0, () -> "mutant " + name + " survived " + max + " schedules: the checker does not see " + rules);
    }
}
