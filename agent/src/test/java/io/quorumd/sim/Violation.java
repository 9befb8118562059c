package io.quorumd.sim;

/**
 * One broken guarantee: its class (safety or liveness), the rule, when (real time) and what.
 */
record Violation(Kind kind, String rule, long atNanos, String detail) {
    enum Kind { SAFETY, LIVENESS }

    String headline() {
        return kind + " " + rule + " at " + SimTrace.seconds(atNanos) + "s: " + detail;
    }
}
