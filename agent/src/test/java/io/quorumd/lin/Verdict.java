package io.quorumd.lin;

import java.util.List;

/**
 * A checker's answer: linearizable, or the violations found (the first per key, and the first of
 * each cross-key check), each explained, and the keys the search gave up on (never counted as
 * linearizable).
 *
 * @param undecided keys whose search ran out of its step budget: neither proven nor refuted
 * @param ops   the operations checked
 * @param keys  the keys they touched
 * @param nanos how long the check took
 */
public record Verdict(List<Violation> violations, List<String> undecided, int ops, int keys, long nanos) {
    public Verdict {
        violations = List.copyOf(violations);
        undecided = List.copyOf(undecided);
    }

    /** No violation found and every key decided. */
    public boolean linearizable() {
        return violations.isEmpty() && undecided.isEmpty();
    }

    @Override
    public String toString() {
        if (linearizable()) {
            return "linearizable (" + ops + " ops, " + keys + " keys, " + nanos / 1_000_000 + " ms)";
        }
        StringBuilder b = new StringBuilder((violations.isEmpty() ? "UNDECIDED" : "NOT linearizable") + " (" + ops
                + " ops, " + keys + " keys):");
        if (!undecided.isEmpty()) {
            b.append("\nthe search gave up (step budget spent) on key(s) ").append(undecided);
        }
        for (Violation v : violations) {
            b.append('\n').append(v);
        }
        return b.toString();
    }
}
