package io.quorumd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** report.md and its PNGs, from the results; every verdict is computed, none is typed in. */
final class Report {
    /** SPEC defaults: heartbeat 100 ms, election_timeout 1000 ms, clock_drift 1 %. */
    static final double LEASE_MILLIS = 1000.0 * (1 - 0.01) / (1 + 0.01);
    static final double STOP_TIMEOUT_MILLIS = 1000.0;
    static final double NO_PROOF_LIMIT_MILLIS = LEASE_MILLIS + STOP_TIMEOUT_MILLIS + 100;

    private Report() {}

    static void write(Path dir, String stamp, boolean quick, Machine machine, String loadEnd, double minutes,
                      List<FailoverBench.Result> failovers, List<OverheadBench.Result> overheads, Object scale,
                      int trials, int windowS) throws IOException {
        StringBuilder r = new StringBuilder();
        r.append("# quorumd benchmarks, ").append(stamp).append(quick ? " (QUICK run)" : "").append("\n\n");
        r.append("Produced by `make bench").append(quick ? " QUICK=1" : "").append("` (`io.quorumd.bench.BenchMain`, tests module); ")
                .append("raw samples in [samples.json](samples.json). SPEC \"Targets\" are quoted beside each number; ")
                .append("percentiles are nearest-rank (with 30 trials, p99 is the largest sample).\n\n");
        r.append("## Machine and versions\n\n");
        r.append("| | |\n|---|---|\n");
        r.append("| CPU | ").append(machine.cpu()).append(", ").append(machine.cores()).append(" cores available to the JVM |\n");
        r.append("| memory | ").append(machine.memMiB()).append(" MiB |\n");
        r.append("| kernel | ").append(machine.kernel()).append(" |\n");
        r.append("| JDK | ").append(machine.jdk()).append(" |\n");
        r.append("| quorumd | ").append(machine.quorumdVersion()).append(", commit ").append(machine.commit()).append(" |\n");
        r.append("| load average (1, 5, 15 min) | at start ").append(machine.loadAtStart()).append("; at end ").append(loadEnd)
                .append(" (the machine is shared with other work) |\n");
        r.append("| duration | ").append(String.format(Locale.ROOT, "%.1f", minutes)).append(" min |\n\n");

        failover(r, dir, failovers, trials);
        overhead(r, dir, overheads, windowS);
        restartBudget(r, failovers, overheads);
        ScaleSection.write(r, dir, scale);
        r.append("## Reference points (from the issue)\n\n");
        r.append("The Python seeds fail over in about 1.0 s (quorum-cluster) and 4 s (pyquorum), both without any protection ")
                .append("against two masters: they start the new command as soon as the old master is silent. quorumd waits for ")
                .append("proof or for the old lease plus `stop_timeout`, so its fail-over without proof is slower by design ")
                .append("(about ").append(Stats.ms(LEASE_MILLIS + STOP_TIMEOUT_MILLIS)).append(" ms with `stop_timeout` 1 s), and its ")
                .append("fail-over with proof (restart certificate, hand-over) is faster.\n");
        Files.writeString(dir.resolve("report.md"), r.toString(), StandardCharsets.UTF_8);
    }

    private static void failover(StringBuilder r, Path dir, List<FailoverBench.Result> results, int trials) throws IOException {
        r.append("## Fail-over of real agents\n\n");
        r.append("3 agents (separate JVMs through the launcher `agent/target/quorumd`, its default JVM options), default timings: ")
                .append("heartbeat 100 ms, `election_timeout` 1000 ms, `clock_drift` 1 %, hence a lease of ")
                .append(String.format(Locale.ROOT, "%.1f", LEASE_MILLIS)).append(" ms; `stop_timeout` ").append(FailoverBench.STOP_TIMEOUT)
                .append("; the managed command is a bash loop that exits on SIGTERM within a few ms. ")
                .append("On 127.0.0.1, except the cut-off scenario, which runs each agent in its own network namespace ")
                .append("(198.18.200.11-13 on veths to a bridge in a hub namespace) and sets the master's hub-side veth down. ")
                .append(trials).append(" trials per scenario; before each fault the cluster is steady (one master running its ")
                .append("command, both followers following it) and then left alone for a random 0.3-1.3 s.\n\n");
        r.append("**Clocks.** *To the new command*: the command's first line records bash's `EPOCHREALTIME` (no fork before it), ")
                .append("against the real-time instant taken just before the fault (signal by `kill(2)` through JNA, the control ")
                .append("request for step-down, the `ip link set down` call for the cut-off, which adds the few ms `ip` takes). ")
                .append("*Old group empty*: the first poll of /proc (every 2 ms, as the tests' CommandObserver does) that finds ")
                .append("no live member of the old command's process group, on the monotonic clock. *Seen* is the observer's ")
                .append("first sight of the new group (a cross-check). A sample fails if no new command runs within 20 s.\n\n");

        r.append("### From the fault to the next master's command running (ms)\n\n");
        r.append("| fault | n | min | p50 | p95 | p99 | max | target (SPEC) | verdict |\n|---|---|---|---|---|---|---|---|---|\n");
        Map<String, List<Double>> cdfNew = new LinkedHashMap<>();
        Map<String, List<Double>> cdfOld = new LinkedHashMap<>();
        List<String> findings = new ArrayList<>();
        for (FailoverBench.Result res : results) {
            List<Double> toNew = new ArrayList<>();
            List<Double> toOld = new ArrayList<>();
            List<Double> after = new ArrayList<>();
            int failed = 0;
            int negativeGap = 0;
            for (FailoverBench.Sample s : res.samples()) {
                if (!s.ok()) {
                    failed++;
                    continue;
                }
                toNew.add(s.toNewCommandMillis());
                toOld.add(s.toOldDeadMillis());
                after.add(s.toNewCommandMillis() - s.toOldDeadMillis());
                if (s.gapMillis() < 0) negativeGap++;
            }
            cdfNew.put(res.scenario().name(), toNew);
            cdfOld.put(res.scenario().name(), toOld);
            Stats st = Stats.of(toNew);
            String verdict = verdict(res.scenario(), st, Stats.of(after), failed, res);
            r.append("| ").append(res.scenario().what).append(" | ").append(st.n()).append(failed > 0 ? " (+" + failed + " failed)" : "")
                    .append(" | ").append(Stats.ms(st.min())).append(" | ").append(Stats.ms(st.p50())).append(" | ")
                    .append(Stats.ms(st.p95())).append(" | ").append(Stats.ms(st.p99())).append(" | ").append(Stats.ms(st.max()))
                    .append(" | ").append(targetText(res.scenario())).append(" | ").append(verdict).append(" |\n");
            if (!res.overlaps().isEmpty()) findings.add("**" + res.scenario() + ": two command groups alive at once** " + res.overlaps());
            if (negativeGap > 0) findings.add(res.scenario() + ": in " + negativeGap + " trials the new group was seen before the old one was seen empty");
            if (res.error() != null) findings.add(res.scenario() + " stopped early: " + res.error());
        }
        r.append("\n### From the fault to the old command's process group empty (ms)\n\n");
        r.append("| fault | p50 | p95 | p99 | max | then to the new command, p50 / p99 |\n|---|---|---|---|---|---|\n");
        for (FailoverBench.Result res : results) {
            Stats st = Stats.of(cdfOld.get(res.scenario().name()));
            List<Double> after = new ArrayList<>();
            for (FailoverBench.Sample s : res.samples()) if (s.ok()) after.add(s.toNewCommandMillis() - s.toOldDeadMillis());
            Stats a = Stats.of(after);
            r.append("| ").append(res.scenario().what).append(" | ").append(Stats.ms(st.p50())).append(" | ").append(Stats.ms(st.p95()))
                    .append(" | ").append(Stats.ms(st.p99())).append(" | ").append(Stats.ms(st.max())).append(" | ")
                    .append(Stats.ms(a.p50())).append(" / ").append(Stats.ms(a.p99())).append(" |\n");
        }
        r.append("\nNo trial saw two command groups alive at once").append(findings.stream().anyMatch(f -> f.contains("two command groups"))
                ? " — **except as listed below**" : " (the observer polls /proc every 2 ms throughout)").append(".\n\n");
        for (FailoverBench.Result res : results) {
            Breakdown.markdown(r, res.samples());   // kill -9 + restart, step-down and SIGTERM have milestones
        }
        Map<String, Double> targets = new LinkedHashMap<>();
        targets.put("target: restart p99 500 ms", 500.0);
        targets.put("limit without proof: lease + stop_timeout + 100 ms", NO_PROOF_LIMIT_MILLIS);
        Plots.cdf(dir.resolve("failover-cdf.png"), "quorumd fail-over: fault to the next master's command running",
                "ms from the fault (log scale)", cdfNew, targets);
        Plots.cdf(dir.resolve("old-command-cdf.png"), "quorumd fail-over: fault to the old command's process group empty",
                "ms from the fault (log scale)", cdfOld, Map.of());
        r.append("![fail-over CDF](failover-cdf.png)\n\n![old command CDF](old-command-cdf.png)\n\n");
        if (!findings.isEmpty()) {
            r.append("**Findings**\n\n");
            for (String f : findings) r.append("- ").append(f).append('\n');
            r.append('\n');
        }
    }

    private static String targetText(FailoverBench.Scenario sc) {
        return switch (sc) {
            case KILL_RESTART -> "p99 < 500";
            case KILL, SIGSTOP, CUT_OFF -> "≤ " + Stats.ms(NO_PROOF_LIMIT_MILLIS) + " (lease + stop_timeout + 100), never sooner without proof";
            case STEP_DOWN, SIGTERM -> "p99 < 50 + the command's stop time";
        };
    }

    private static String verdict(FailoverBench.Scenario sc, Stats st, Stats after, int failed, FailoverBench.Result res) {
        if (st.n() == 0) return "**not measured**";
        String extra = failed > 0 ? "; " + failed + " trials failed" : "";
        if (!res.overlaps().isEmpty()) return "**MISSES: overlap**";
        switch (sc) {
            case KILL_RESTART:
                return (st.p99() < 500 ? "meets" : "**misses**") + extra;
            case KILL:
            case SIGSTOP:
            case CUT_OFF:
                return (st.max() <= NO_PROOF_LIMIT_MILLIS ? "meets (max ≤ limit)" : "**misses** (" + count(res, NO_PROOF_LIMIT_MILLIS)
                        + " over the limit)") + "; old group gone first in every trial" + extra;
            case STEP_DOWN:
            case SIGTERM:
                return (after.p99() < 50 ? "meets" : "**misses**") + String.format(Locale.ROOT,
                        " (after the old group was empty: p99 %s ms)", Stats.ms(after.p99())) + extra;
            default:
                throw new IllegalStateException("unknown scenario " + sc);
        }
    }

    private static long count(FailoverBench.Result res, double limit) {
        return res.samples().stream().filter(s -> s.ok() && s.toNewCommandMillis() > limit).count();
    }

    private static void overhead(StringBuilder r, Path dir, List<OverheadBench.Result> results, int windowS) throws IOException {
        r.append("## At rest\n\n");
        r.append("Clusters of each size on 127.0.0.1 (log_level info, default timings, a master running the command). After all ")
                .append("agents know a master and a settling pause, nothing talks to them for ").append(windowS)
                .append(" s: CPU is utime + stime of each agent's JVM from /proc/PID/stat over that window (10 ms ticks) ")
                .append("in % of one core; RSS is VmRSS at its end; traffic is the TCP data segments and bytes the agent's ")
                .append("sockets sent in the window (`ss -tinpH` before and after: keep-alives to each peer, votes, and ")
                .append("ZMTP's own frames), per second. Start: the agent's own \"first keep-alive N ms after start\" (counted ")
                .append("from AgentFactory.start, after the JVM booted) and the same log line's time stamp against the ")
                .append("process spawn (JVM boot included, ms resolution); joining: spawn until its status names a master.\n\n");
        r.append("| nodes | CPU % per agent: mean / max (master) | RSS MiB: mean / max | TCP segments/s sent per agent (mean) | ")
                .append("bytes/s sent per agent (mean) | first keep-alive after agent start, ms: p50 / max | after spawn: p50 / max | ")
                .append("joined after spawn, ms: p50 / max |\n|---|---|---|---|---|---|---|---|\n");
        List<Integer> sizes = new ArrayList<>();
        List<double[]> cpu = new ArrayList<>();
        List<double[]> rss = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        double worstCpu = 0;
        double worstRss = 0;
        double worstKa = 0;
        double worstKaSpawn = 0;
        for (OverheadBench.Result res : results) {
            if (res.nodes().isEmpty()) {
                notes.add(res.size() + " nodes: not measured (" + res.error() + ")");
                continue;
            }
            List<Double> c = new ArrayList<>();
            List<Double> m = new ArrayList<>();
            List<Double> seg = new ArrayList<>();
            List<Double> by = new ArrayList<>();
            List<Double> ka = new ArrayList<>();
            List<Double> kaSpawn = new ArrayList<>();
            List<Double> join = new ArrayList<>();
            double masterCpu = Double.NaN;
            for (OverheadBench.NodeSample s : res.nodes()) {
                c.add(s.cpuPercent());
                m.add(s.rssKiB() / 1024.0);
                seg.add(s.segsPerSec());
                by.add(s.bytesPerSec());
                if (s.firstKeepAliveAgentMillis() >= 0) ka.add((double) s.firstKeepAliveAgentMillis());
                if (s.firstKeepAliveSpawnMillis() >= 0) kaSpawn.add((double) s.firstKeepAliveSpawnMillis());
                join.add((double) s.joinMillis());
                if ("master".equals(s.role())) masterCpu = s.cpuPercent();
            }
            Stats sc = Stats.of(c);
            Stats sm = Stats.of(m);
            Stats sk = Stats.of(ka);
            Stats ss = Stats.of(kaSpawn);
            Stats sj = Stats.of(join);
            worstCpu = Math.max(worstCpu, sc.max());
            worstRss = Math.max(worstRss, sm.max());
            worstKa = Math.max(worstKa, sk.max());
            worstKaSpawn = Math.max(worstKaSpawn, ss.max());
            sizes.add(res.size());
            cpu.add(new double[] {sc.mean(), sc.max()});
            rss.add(new double[] {sm.mean(), sm.max()});
            r.append("| ").append(res.size()).append(" | ").append(f2(sc.mean())).append(" / ").append(f2(sc.max()))
                    .append(" (").append(f2(masterCpu)).append(") | ").append(f1(sm.mean())).append(" / ").append(f1(sm.max()))
                    .append(" | ").append(f1(Stats.of(seg).mean())).append(" | ").append(String.format(Locale.ROOT, "%.0f", Stats.of(by).mean()))
                    .append(" | ").append(Stats.ms(sk.p50())).append(" / ").append(Stats.ms(sk.max())).append(" | ")
                    .append(Stats.ms(ss.p50())).append(" / ").append(Stats.ms(ss.max())).append(" | ")
                    .append(Stats.ms(sj.p50())).append(" / ").append(Stats.ms(sj.max())).append(" |\n");
            if (res.error() != null) notes.add(res.size() + " nodes: " + res.error());
        }
        r.append(restVerdict(sizes.isEmpty(), worstCpu, worstRss, worstKaSpawn, worstKa));
        for (String n : notes) r.append("- ").append(n).append('\n');
        if (!sizes.isEmpty()) {
            int[] xs = sizes.stream().mapToInt(Integer::intValue).toArray();
            Plots.bySize(dir.resolve("cpu-by-size.png"), "quorumd at rest: CPU per agent", "% of one core", xs,
                    series(cpu, "mean per agent", "max per agent"), "target 0.5 %", 0.5);
            Plots.bySize(dir.resolve("rss-by-size.png"), "quorumd at rest: resident memory per agent", "MiB (VmRSS)", xs,
                    series(rss, "mean per agent", "max per agent"), "target 48 MiB", 48);
            r.append("\n![CPU by cluster size](cpu-by-size.png)\n\n![RSS by cluster size](rss-by-size.png)\n\n");
        }
    }

    /**
     * The verdict line under the at-rest table. Nothing measured gives no verdict (an empty table
     * once read "meets (worst 0.00 %)"); the start target is judged after the spawn, JVM boot
     * included, as SPEC and a user count it, with the agent's own count beside it.
     */
    static String restVerdict(boolean none, double worstCpu, double worstRss, double worstKaSpawn, double worstKa) {
        if (none) return "\nTargets (SPEC, per agent at rest): not measured in this run.\n\n";
        return "\nTargets (SPEC, per agent at rest): CPU < 0.5 % of one core — " + (worstCpu < 0.5 ? "meets" : "**misses**")
                + String.format(Locale.ROOT, " (worst %.2f %%)", worstCpu) + "; RSS < 48 MiB — "
                + (worstRss < 48 ? "meets" : "**misses**") + String.format(Locale.ROOT, " (worst %.1f MiB)", worstRss)
                + "; spawn to first keep-alive < 400 ms — " + (worstKaSpawn < 400 ? "meets" : "**misses**")
                + " (worst " + Stats.ms(worstKaSpawn) + " ms after the spawn, JVM boot included; " + Stats.ms(worstKa)
                + " ms counted by the agent from its own start).\n\n";
    }

    /** Why the restart path takes what it takes: the certificate exists only once the new JVM publishes. */
    private static void restartBudget(StringBuilder r, List<FailoverBench.Result> failovers, List<OverheadBench.Result> overheads) {
        List<Double> agent = new ArrayList<>();
        List<Double> spawn = new ArrayList<>();
        for (OverheadBench.Result o : overheads) {
            for (OverheadBench.NodeSample s : o.nodes()) {
                if (s.firstKeepAliveAgentMillis() >= 0) agent.add((double) s.firstKeepAliveAgentMillis());
                if (s.firstKeepAliveSpawnMillis() >= 0) spawn.add((double) s.firstKeepAliveSpawnMillis());
            }
        }
        Stats a = Stats.of(agent);
        Stats sp = Stats.of(spawn);
        if (sp.n() == 0) return;
        r.append("## Where the restart path's time goes\n\n");
        r.append("A restarted agent's certificate reaches its peers with its first keep-alive, so no proof exists before ")
                .append("100 ms (the supervisor's restart delay) + the spawn-to-first-keep-alive time measured above ")
                .append(String.format(Locale.ROOT, "(p50 %s ms, max %s ms here, of which the JVM's boot is about %s ms and the ",
                        Stats.ms(sp.p50()), Stats.ms(sp.max()), Stats.ms(sp.p50() - a.p50())))
                .append(String.format(Locale.ROOT, "agent's own start-up %s ms), i.e. about %s ms at the median. ", Stats.ms(a.p50()),
                        Stats.ms(100 + sp.p50())))
                .append("After that come the peers' SUB sockets reconnecting to the new PUB socket, the election if none has ")
                .append("happened yet, the new master's lease (a keep-alive echoed by a follower) and the spawn of the ")
                .append("watchdog, the wrapper and the command. With the target at 500 ms, the JVM's start alone decides it ")
                .append("on this machine.\n\n");
    }

    static Map<String, double[]> series(List<double[]> rows, String... names) {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (int k = 0; k < names.length; k++) {
            double[] v = new double[rows.size()];
            for (int i = 0; i < rows.size(); i++) v[i] = rows.get(i)[k];
            m.put(names[k], v);
        }
        return m;
    }

    static String f1(double d) {
        return Double.isNaN(d) ? "–" : String.format(Locale.ROOT, "%.1f", d);
    }

    static String f2(double d) {
        return Double.isNaN(d) ? "–" : String.format(Locale.ROOT, "%.2f", d);
    }
}
