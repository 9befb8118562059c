package io.quorumd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code curve.md}: the same faults and the same rest, under CURVE and in trusted mode, from one
 * run on one machine, so that what authentication costs is read off one table. report.md links it.
 */
final class CurveReport {
    private CurveReport() {}

    static void write(Path dir, List<FailoverBench.Result> curve, List<FailoverBench.Result> trusted,
                      OverheadBench.Result curveRest, OverheadBench.Result trustedRest) throws IOException {
        StringBuilder r = new StringBuilder("# CURVE on and off, side by side\n\n");
        r.append("From the fault to the next master's command running (ms), 3 nodes, the same run and machine.\n\n");
        r.append("| fault | CURVE p50 | CURVE p99 | CURVE max | trusted p50 | trusted p99 | trusted max |\n");
        r.append("|---|---|---|---|---|---|---|\n");
        for (FailoverBench.Result c : curve) {
            FailoverBench.Result t = trusted.stream().filter(x -> x.scenario() == c.scenario()).findFirst().orElse(null);
            Stats sc = Stats.of(toNew(c));
            r.append("| ").append(c.scenario().what).append(" | ").append(Stats.ms(sc.p50())).append(" | ")
                    .append(Stats.ms(sc.p99())).append(" | ").append(Stats.ms(sc.max())).append(" | ");
            if (t == null) {
                r.append("- | - | - |\n");
            } else {
                Stats st = Stats.of(toNew(t));
                r.append(Stats.ms(st.p50())).append(" | ").append(Stats.ms(st.p99())).append(" | ").append(Stats.ms(st.max())).append(" |\n");
            }
        }
        r.append("\nAt rest, 3 nodes (per agent: mean and max over the agents).\n\n");
        r.append("| mode | CPU % mean | CPU % max | RSS MiB mean | RSS MiB max |\n|---|---|---|---|---|\n");
        rest(r, "CURVE", curveRest);
        rest(r, "trusted", trustedRest);
        Files.writeString(dir.resolve("curve.md"), r.toString(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("report.md"), "\nCURVE on and off side by side: [curve.md](curve.md).\n",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    private static List<Double> toNew(FailoverBench.Result res) {
        List<Double> l = new ArrayList<>();
        for (FailoverBench.Sample s : res.samples()) if (s.ok()) l.add(s.toNewCommandMillis());
        return l;
    }

    private static void rest(StringBuilder r, String mode, OverheadBench.Result res) {
        if (res == null) {
            r.append("| ").append(mode).append(" | - | - | - | - |\n");
            return;
        }
        List<Double> cpu = new ArrayList<>();
        List<Double> rss = new ArrayList<>();
        for (OverheadBench.NodeSample n : res.nodes()) {
            cpu.add(n.cpuPercent());
            rss.add(n.rssKiB() / 1024.0);
        }
        Stats c = Stats.of(cpu);
        Stats m = Stats.of(rss);
        r.append("| ").append(mode).append(" | ").append(Report.f2(c.mean())).append(" | ").append(Report.f2(c.max()))
                .append(" | ").append(Report.f1(m.mean())).append(" | ").append(Report.f1(m.max())).append(" |\n");
    }
}
