package io.quorumd.lin;

import java.util.List;

/**
 * A checker's answer: linearizable, or the violations found (the first per key, and every
 * cross-key one), each explained.
 *
 * @param ops   the operations checked
 * @param keys  the keys they touched
 * @param nanos how long the check took
 */
public record Verdict(List<Violation> violations, int ops, int keys, long nanos) {
    public Verdict {
        violations = List.copyOf(violations);
    }

    public boolean linearizable() {
        return violations.isEmpty();
    }

    @Override
    public String toString() {
        if (violations.isEmpty()) {
            return "linearizable (" + ops + " ops, " + keys + " keys, " + nanos / 1_000_000 + " ms)";
        }
        StringBuilder b = new StringBuilder("NOT linearizable (" + ops + " ops, " + keys + " keys):");
        for (Violation v : violations) {
            b.append('\n').append(v);
        }
        return b.toString();
    }
}
