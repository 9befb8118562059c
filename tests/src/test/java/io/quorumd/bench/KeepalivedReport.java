package io.quorumd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code keepalived.md}: quorumd's fail-over rows and rest beside keepalived's, from one run on one
 * machine, and the same table appended to report.md. Every number is computed from the samples.
 */
final class KeepalivedReport {
    private KeepalivedReport() {}

    /** Writes the skip notice instead when the keepalived set did not run. */
    static void skipped(Path dir, String why) throws IOException {
        Files.writeString(dir.resolve("report.md"), "\n## Side by side with keepalived\n\nSkipped: " + why + ".\n",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    static void write(Path dir, String version, List<FailoverBench.Result> quorumd, List<KeepalivedBench.Result> keepalived,
                      OverheadBench.Result quorumdRest, KeepalivedBench.RestResult keepalivedRest, String load) throws IOException {
        StringBuilder r = new StringBuilder();
        r.append("## Side by side with keepalived\n\n");
        r.append(version).append(", three instances (VRRP only) in three network namespaces on 198.18.200.11-13 joined by a bridge, ")
                .append("VRRP v3, `advert_int 0.1`, unicast peers, priorities 150/100/50, preemption on (keepalived's default: ")
                .append("no `nopreempt`). `notify_master` starts quorumd's benchmark command unless it already runs on that node ")
                .append("(like `systemctl start`), `notify_backup`/`notify_fault`/`notify_stop` stop it (SIGTERM to its group, ")
                .append("SIGKILL after 1 s); the command runs in its own session, like a unit of its own, and the same observer ")
                .append("(/proc every 2 ms) watches both tools' commands. Faults hit the master's VRRP process; the parent runs ")
                .append("with `--dont-respawn`, so it exits with its child, and \"restarted\" is keepalived started again 100 ms ")
                .append("after the kill (as systemd with `RestartSec=100ms` would; Debian's unit has no `Restart=`). ")
                .append("quorumd's rows are this run's 3-agent rows (CURVE). Load average at the end of the run: ").append(load)
                .append(" (2 cores shared with other work: timings are inflated and noisy).\n\n");
        r.append("*Fail-over*: the fault to the next command's own start record, ms. *Overlaps*: intervals in which two ")
                .append("command groups were alive at once (count, total ms), over the whole scenario, recoveries included. ")
                .append("*Leaked*: commands alive 1 s after the new command started (for the freeze: also 1 s after SIGCONT) ")
                .append("on a node whose supervisor (quorumd agent, keepalived VRRP process) is dead, stopped or not master.\n\n");
        r.append("| fault | tool | n | fail-over p50 | p99 | max | overlaps (count / total ms) | leaked commands |\n")
                .append("|---|---|---|---|---|---|---|---|\n");
        for (KeepalivedBench.Result k : keepalived) {
            FailoverBench.Result q = quorumd.stream().filter(x -> x.scenario() == k.scenario().quorumd).findFirst().orElse(null);
            if (q != null) {
                List<Double> t = new ArrayList<>();
                int leaked = 0;
                for (FailoverBench.Sample s : q.samples()) {
                    if (s.ok()) t.add(s.toNewCommandMillis());
                    leaked += s.leaked();
                }
                Stats st = Stats.of(t);
                r.append("| ").append(q.scenario().what).append(" | quorumd | ").append(st.n()).append(" | ").append(Stats.ms(st.p50()))
                        .append(" | ").append(Stats.ms(st.p99())).append(" | ").append(Stats.ms(st.max())).append(" | ")
                        .append(q.overlapIntervals().size()).append(" / ").append(Stats.ms(Overlaps.totalMillis(q.overlapIntervals())))
                        .append(" | ").append(leaked).append(" |\n");
            }
            List<Double> t = new ArrayList<>();
            int leaked = 0;
            int overlaps = 0;
            double overlapMillis = 0;
            for (KeepalivedBench.Sample s : k.samples()) {
                if (s.ok()) t.add(s.toNewCommandMillis());
                leaked += s.leaked();
                overlaps += s.overlaps();
                overlapMillis += s.overlapMillis();
            }
            Stats st = Stats.of(t);
            r.append("| ").append(k.scenario().what).append(" | keepalived | ").append(st.n()).append(" | ").append(Stats.ms(st.p50()))
                    .append(" | ").append(Stats.ms(st.p99())).append(" | ").append(Stats.ms(st.max())).append(" | ")
                    .append(overlaps).append(" / ").append(Stats.ms(overlapMillis)).append(" | ").append(leaked)
                    .append(k.strays() > 0 ? " (+" + k.strays() + " on a backup, stopped by the bench)" : "")
                    .append(k.restarted() > 0 ? "; " + k.restarted() + "× a master without its command" : "").append(" |\n");
        }
        r.append("\nkeepalived forks each notify script and does not wait for it, so a quick master → backup pair can run ")
                .append("in the wrong order: the command then keeps running on a backup node, or the master runs none. The bench ")
                .append("waits 10 s for a steady state before each trial, then stops such a stray command (\"on a backup\") or ")
                .append("runs notify_master again (\"a master without its command\"), and counts each.\n");
        for (KeepalivedBench.Result k : keepalived) {
            if (k.error() != null) r.append("\n- keepalived ").append(k.scenario()).append(" stopped early: ").append(k.error());
        }
        r.append("\n\nAt rest (per node: CPU % of one core over the window, VmRSS at its end; keepalived: parent and VRRP ")
                .append("child together, the child's share in brackets):\n\n");
        r.append("| tool | CPU % mean / max | RSS MiB mean / max |\n|---|---|---|\n");
        if (quorumdRest != null && !quorumdRest.nodes().isEmpty()) {
            List<Double> c = new ArrayList<>();
            List<Double> m = new ArrayList<>();
            for (OverheadBench.NodeSample n : quorumdRest.nodes()) {
                c.add(n.cpuPercent());
                m.add(n.rssKiB() / 1024.0);
            }
            r.append("| quorumd (3 agents, CURVE, ").append(String.format(Locale.ROOT, "%.0f", quorumdRest.windowSeconds())).append(" s) | ")
                    .append(Report.f2(Stats.of(c).mean())).append(" / ").append(Report.f2(Stats.of(c).max())).append(" | ")
                    .append(Report.f1(Stats.of(m).mean())).append(" / ").append(Report.f1(Stats.of(m).max())).append(" |\n");
        }
        if (keepalivedRest != null && !keepalivedRest.nodes().isEmpty()) {
            List<Double> c = new ArrayList<>();
            List<Double> m = new ArrayList<>();
            List<Double> v = new ArrayList<>();
            for (KeepalivedBench.Rest n : keepalivedRest.nodes()) {
                c.add(n.cpuPercent());
                m.add(n.rssKiB() / 1024.0);
                v.add(n.vrrpRssKiB() / 1024.0);
            }
            r.append("| keepalived (3 instances, ").append(String.format(Locale.ROOT, "%.0f", keepalivedRest.windowSeconds())).append(" s) | ")
                    .append(Report.f2(Stats.of(c).mean())).append(" / ").append(Report.f2(Stats.of(c).max())).append(" | ")
                    .append(Report.f1(Stats.of(m).mean())).append(" (").append(Report.f1(Stats.of(v).mean())).append(") / ")
                    .append(Report.f1(Stats.of(m).max())).append(" |\n");
        } else if (keepalivedRest != null) {
            r.append("| keepalived | not measured: ").append(keepalivedRest.error()).append(" | |\n");
        }
        r.append("\nquorumd's CPU is utime + stime of the whole JVM (10 ms ticks); keepalived's is each single-threaded process's ")
                .append("run time from /proc/PID/schedstat (ns): it uses far less than a tick per second.\n");
        Files.writeString(dir.resolve("keepalived.md"), "# quorumd and keepalived, side by side\n\n" + r, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("report.md"), "\n" + r, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }
}
