package io.quorumd.sim;

import java.io.PrintStream;

/** Placeholder until the scenarios land. */
final class FailoverStats {
    private FailoverStats() {}

    static void report(int runs, PrintStream out) {
    }
}
