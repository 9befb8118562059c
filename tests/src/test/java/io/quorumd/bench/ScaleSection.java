package io.quorumd.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The simulator's scale numbers (written by {@code io.quorumd.sim.ScaleBench} in the agent's test
 * sources, which the tests module cannot compile against): election time and messages per second
 * from 3 to 9 voters. Format: {@code {"method": text, "sizes": [{"nodes", "election_ms": [..],
 * "failover_ms": [..], "messages_per_s_at_rest", "messages_per_s_in_election"}]}}.
 */
final class ScaleSection {
    private ScaleSection() {}

    @SuppressWarnings("unchecked")
    static void write(StringBuilder r, Path dir, Object scale) throws IOException {
        r.append("## Scale (simulator)\n\n");
        if (!(scale instanceof Map)) {
            r.append("Not measured in this run (no scale.json from `io.quorumd.sim.ScaleBench`).\n\n");
            return;
        }
        Map<String, Object> s = (Map<String, Object>) scale;
        r.append(String.valueOf(s.get("method"))).append("\n\n");
        r.append("| voters | runs | election after the master's host went down, ms: p50 / p99 / max | fail-over (to the new command, no proof), ms: p50 / p99 / max | ")
                .append("messages/s at rest (whole cluster) | per node | messages/s during an election (whole cluster) |\n")
                .append("|---|---|---|---|---|---|---|\n");
        List<Integer> sizes = new ArrayList<>();
        List<double[]> times = new ArrayList<>();
        List<double[]> msgs = new ArrayList<>();
        for (Object o : (List<Object>) s.get("sizes")) {
            Map<String, Object> m = (Map<String, Object>) o;
            int n = ((Number) m.get("nodes")).intValue();
            Stats e = Stats.of(doubles(m.get("election_ms")));
            Stats f = Stats.of(doubles(m.get("failover_ms")));
            double rest = ((Number) m.get("messages_per_s_at_rest")).doubleValue();
            double elect = ((Number) m.get("messages_per_s_in_election")).doubleValue();
            r.append("| ").append(n).append(" | ").append(e.n()).append(" | ").append(Stats.ms(e.p50())).append(" / ")
                    .append(Stats.ms(e.p99())).append(" / ").append(Stats.ms(e.max())).append(" | ").append(Stats.ms(f.p50()))
                    .append(" / ").append(Stats.ms(f.p99())).append(" / ").append(Stats.ms(f.max())).append(" | ")
                    .append(Report.f1(rest)).append(" | ").append(Report.f1(rest / n)).append(" | ").append(Report.f1(elect)).append(" |\n");
            sizes.add(n);
            times.add(new double[] {e.p50(), e.p99(), f.p50(), f.p99()});
            msgs.add(new double[] {rest, elect});
        }
        int[] xs = sizes.stream().mapToInt(Integer::intValue).toArray();
        Plots.bySize(dir.resolve("scale-election.png"), "simulator: election and fail-over time by cluster size", "ms", xs,
                Report.series(times, "election p50", "election p99", "fail-over (no proof) p50",
                        "fail-over (no proof) p99"), null, 0);
        Plots.bySize(dir.resolve("scale-messages.png"), "simulator: messages per second by cluster size", "messages/s (whole cluster)",
                xs, Report.series(msgs, "at rest", "during an election"), null, 0);
        r.append("\n![election time by size](scale-election.png)\n\n![messages by size](scale-messages.png)\n\n");
    }

    private static List<Double> doubles(Object o) {
        List<Double> l = new ArrayList<>();
        if (o instanceof List<?> list) for (Object x : list) if (x instanceof Number num) l.add(num.doubleValue());
        return l;
    }

    static Map<String, Object> empty() {
        return new LinkedHashMap<>();
    }
}
