package io.quorumd.sim;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Runs seeded schedules and reports. {@code --seeds N} runs seeds 1..N (from {@code --first-seed});
 * {@code --seed S} replays one with its full trace; {@code --report-rule R} reports only that rule's
 * failures; {@code --nodes k} fixes the cluster size (else a
 * mix of 3, 5 and 7); {@code --mutant name} runs a deliberately broken node; {@code --stats N} runs
 * the failover scenarios N times each (0 to skip). Ends with {@code schedules=N violations=V} and
 * exits 1 when V > 0.
 */
public final class SimMain {
    private SimMain() {}

    /** What a batch of schedules found. */
    static final class Summary {
        long schedules;
        long violations;
        long steps;
        long virtualNanos;
        long wallNanos;
        long firstViolationSeed = -1;
        final TreeMap<String, Long> byRule = new TreeMap<>();
        long deferredStarts;
        long lateResponses;
        long contestedTerms;
        long preemptions;
        long preemptingSchedules;
        long convergedMaxNanos;
        long kvSchedules;
        long kvOps;
        long kvAnswered;
        long kvUnknown;
        long undecided;
        long linearizabilityNanos;
        long snapshotsTaken;
        long snapshotsInstalled;
        long installingSchedules;
        long logWriteFailures;

        double schedulesPerSecond() {
            return wallNanos == 0 ? 0 : schedules / (wallNanos / 1e9);
        }
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out));
    }

    static int execute(String[] args, PrintStream out) {
        long seeds = 100;
        long firstSeed = 1;
        Long oneSeed = null;
        int nodes = 0;
        String mutantName = "none";
        int stats = -1;
        int traceLines = 150;
        int maxReports = 5;
        String reportRule = null;
        Long failoverSeed = null;
        String failoverKind = "CRASH_RESTART";
        boolean digest = false;
        String kv = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--seeds": seeds = Long.parseLong(need(a, v)); i++; break;
                case "--first-seed": firstSeed = Long.parseLong(need(a, v)); i++; break;
                case "--seed": oneSeed = Long.parseLong(need(a, v)); i++; break;
                case "--nodes": nodes = Integer.parseInt(need(a, v)); i++; break;
                case "--mutant": mutantName = need(a, v); i++; break;
                case "--stats": stats = Integer.parseInt(need(a, v)); i++; break;
                case "--trace-lines": traceLines = Integer.parseInt(need(a, v)); i++; break;
                case "--max-reports": maxReports = Integer.parseInt(need(a, v)); i++; break;
                case "--report-rule": reportRule = need(a, v); i++; break;
                case "--failover-seed": failoverSeed = Long.parseLong(need(a, v)); i++; break;
                case "--failover": failoverKind = need(a, v); i++; break;
                case "--digest": digest = true; break;
                case "--kv": kv = need(a, v); i++; break;
                case "-h":
                case "--help":
                    out.println("usage: SimMain [--seeds N | --seed S] [--first-seed F] [--nodes 3|5|7] "
                            + "[--mutant " + String.join("|", Mutant.NAMES) + "] [--kv on|off] [--stats N] [--trace-lines L]");
                    return 0;
                default:
                    out.println("SimMain: unknown argument '" + a + "' (try --help)");
                    return 2;
            }
        }
        if (nodes != 0 && (nodes < 1 || nodes > 9)) {
            out.println("SimMain: --nodes must be 1..9, got " + nodes);
            return 2;
        }
        Mutant mutant;
        try {
            mutant = Mutant.byName(mutantName);
        } catch (IllegalArgumentException e) {
            out.println("SimMain: " + e.getMessage());
            return 2;
        }
        if (kv != null) {
            if (!kv.equals("on") && !kv.equals("off")) {
                out.println("SimMain: --kv must be on or off (default: drawn per seed, or the mutant's), got " + kv);
                return 2;
            }
            mutant.kv = kv.equals("on");
        }

        if (digest) return digests(firstSeed, seeds, nodes, mutant, out);
        if (failoverSeed != null) {
            FailoverStats.Outcome o = FailoverStats.failover(failoverSeed, FailoverStats.Fault.valueOf(failoverKind), out);
            out.println(o.measured() ? "failover took " + SimTrace.ms(o.nanos()) : "not measured: " + o.note());
            return 0;
        }
        Summary s;
        if (oneSeed != null) {
            s = new Summary();
            SimParams p = SimParams.random(oneSeed, nodes);
            Simulation sim = new Simulation(p, mutant, true);
            out.println("params:\n" + p.describe());
            long t0 = System.nanoTime();
            Simulation.Result r = sim.run();
            s.wallNanos = System.nanoTime() - t0;
            out.println("trace:");
            out.print(sim.trace.render(0));
            account(s, r);
            if (r.violation() != null) out.println("VIOLATION seed=" + oneSeed + " " + r.violation().headline());
            else out.println("ok: converged " + (r.metAfterHealNanos() >= 0 ? SimTrace.ms(r.metAfterHealNanos()) : "-")
                    + " after the heal (budget " + SimTrace.ms(sim.checker.livenessBudgetNanos) + ")");
            if (stats < 0) stats = 0;
        } else {
            s = runSchedules(firstSeed, seeds, nodes, mutant, null, reportRule, maxReports, traceLines, out);
            out.printf(Locale.ROOT, "ran %d schedules (%s, mutant %s) in %.1f s: %.0f schedules/s, %d steps, "
                            + "%.0f s of virtual time; slowest convergence after heal %s; deferred starts %d, late answers %d, "
                            + "split elections %d, preemptions %d (in %d schedules)%n",
                    s.schedules, nodes == 0 ? "3/5/7 nodes" : nodes + " nodes", mutant.name, s.wallNanos / 1e9,
                    s.schedulesPerSecond(), s.steps, s.virtualNanos / 1e9, SimTrace.ms(s.convergedMaxNanos),
                    s.deferredStarts, s.lateResponses, s.contestedTerms, s.preemptions, s.preemptingSchedules);
            out.printf(Locale.ROOT, "kv store: %d schedules with clients, %d calls checked for linearizability (%d answered,"
                    + " %d unknown) in %.1f s of checking, %d histories undecided%n", s.kvSchedules, s.kvOps, s.kvAnswered,
                    s.kvUnknown, s.linearizabilityNanos / 1e9, s.undecided);
            out.printf(Locale.ROOT, "snapshots: %d taken, %d installed from a master (in %d schedules); %d log writes failed%n",
                    s.snapshotsTaken, s.snapshotsInstalled, s.installingSchedules, s.logWriteFailures);
            if (!s.byRule.isEmpty()) out.println("violations by class and rule: " + s.byRule);
            if (stats < 0) stats = 1000;
        }
        if (stats > 0) FailoverStats.report(stats, out);
        out.println("schedules=" + s.schedules + " violations=" + s.violations);
        return s.violations > 0 ? 1 : 0;
    }

    /**
     * {@code --digest}: one line per seed with its outcome and a digest of its whole traced run
     * (every event and effect, all fields). Two builds of the core that print the same lines
     * behave the same on these seeds, step for step.
     */
    static int digests(long firstSeed, long count, int nodes, Mutant mutant, PrintStream out) {
        long violations = 0;
        for (long seed = firstSeed; seed < firstSeed + count; seed++) {
            Simulation sim = new Simulation(SimParams.random(seed, nodes), mutant, true);
            Simulation.Result r = sim.run();
            if (r.violation() != null) violations++;
            out.println(seed + " " + (r.violation() == null ? "ok" : "VIOLATION " + r.violation().rule())
                    + " steps=" + r.steps() + " virtual=" + r.virtualNanos() + " met=" + r.metAfterHealNanos()
                    + " " + sim.trace.digest());
        }
        out.println("schedules=" + count + " violations=" + violations);
        return violations > 0 ? 1 : 0;
    }

    private static String need(String flag, String value) {
        return Objects.requireNonNull(value, () -> flag + " needs a value");
    }

    private static void account(Summary s, Simulation.Result r) {
        s.schedules++;
        s.steps += r.steps();
        s.virtualNanos += r.virtualNanos();
        s.deferredStarts += r.deferredStarts();
        s.lateResponses += r.lateResponses();
        s.contestedTerms += r.contestedTerms();
        s.preemptions += r.preemptions();
        if (r.preemptions() > 0) s.preemptingSchedules++;
        s.convergedMaxNanos = Math.max(s.convergedMaxNanos, r.metAfterHealNanos());
        if (r.kvOps() > 0) s.kvSchedules++;
        s.kvOps += r.kvOps();
        s.kvAnswered += r.kvAnswered();
        s.kvUnknown += r.kvUnknown();
        s.undecided += r.undecidedHistories();
        s.snapshotsTaken += r.snapshotsTaken();
        s.snapshotsInstalled += r.snapshotsInstalled();
        if (r.snapshotsInstalled() > 0) s.installingSchedules++;
        s.logWriteFailures += r.logWriteFailures();
        if (r.violation() != null) {
            s.violations++;
            if (s.firstViolationSeed < 0) s.firstViolationSeed = r.seed();
            s.byRule.merge(r.violation().kind() + "/" + r.violation().rule(), 1L, Long::sum);
        }
    }

    /**
     * Runs {@code count} schedules from {@code firstSeed}. Each failure is reported with its seed, all
     * its parameters and the tail of its trace (the seed is replayed with tracing on: a batch run
     * records nothing). {@code stopAtFirst} ends the batch at the first violation.
     */
    static Summary runSchedules(long firstSeed, long count, int nodes, Mutant mutant, java.util.Set<String> stopAtRules,
                                String reportRule, int maxReports, int traceLines, PrintStream out) {
        Summary s = new Summary();
        long t0 = System.nanoTime();
        int reported = 0;
        for (long seed = firstSeed; seed < firstSeed + count; seed++) {
            SimParams p = SimParams.random(seed, nodes);
            Simulation sim = new Simulation(p, mutant, false);
            Simulation.Result r = sim.run();
            account(s, r);
            s.linearizabilityNanos += sim.linearizabilityNanos;
            Violation v = r.violation();
            if (v != null) {
                if ((reportRule == null || reportRule.equals(v.rule())) && reported < maxReports && out != null) {
                    reported++;
                    report(p, mutant, r, traceLines, out);
                }
                if (stopAtRules != null && stopAtRules.contains(v.rule())) break;
            }
        }
        s.wallNanos = System.nanoTime() - t0;
        return s;
    }

    static void report(SimParams p, Mutant mutant, Simulation.Result r, int traceLines, PrintStream out) {
        out.println("VIOLATION seed=" + p.seed + (mutant.name.equals("none") ? "" : " mutant=" + mutant.name) + " "
                + r.violation().headline());
        out.println("params:\n" + p.describe());
        Simulation replay = new Simulation(p, mutant, true);
        Simulation.Result again = replay.run();
        if (!Objects.equals(again.violation(), r.violation()))
            out.println("REPLAY DIVERGED (nondeterminism in the simulator or the core): " + again.violation());
        out.println("trace (last " + traceLines + " lines; replay: --seed " + p.seed + (p.nodes != 0 ? "" : "")
                + (mutant.name.equals("none") ? "" : " --mutant " + mutant.name) + "):");
        out.print(replay.trace.render(traceLines));
        out.println();
    }
}
