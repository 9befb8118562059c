package io.quorumd.sim;

import io.quorumd.core.Timing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The scale part of {@code make bench}: the real core in the simulator, 3 to 9 voters, the same
 * steady LAN as {@link FailoverStats} (default timings, stop_timeout 1 s, links of 0.05-0.5 ms plus
 * up to 0.5 ms jitter, no loss, disks of 0.5-5 ms). Per run: the cluster settles, the messages
 * sent in the quiet second half of the settling are counted (every copy of a keep-alive to each
 * peer counts once, as on the wire), then the master's host loses power: the time to the next
 * master's election and to its command start, and the messages per second between the fault and
 * that election. Writes {@code scale.json} for the tests module's report (which cannot compile
 * against these test classes).
 *
 * <pre>java -cp agent/target/test-classes:agent/target/classes:agent/target/lib/* io.quorumd.sim.ScaleBench OUT.json [RUNS] [SIZES]</pre>
 */
public final class ScaleBench {
    private ScaleBench() {}

    static SimParams steady(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        SimParams p = FailoverStats.steady(seed);
        p.setNodes(n);
        p.timing = new Timing(100 * SimParams.MS, 1000 * SimParams.MS, 0.01, FailoverStats.STOP_TIMEOUT_NANOS, 60_000 * SimParams.MS);
        for (int i = 0; i < n; i++) {
            p.priorities[i] = 100;
            p.clockOffsetNanos[i] = r.nextLong(1_000_000 * SimParams.MS);
            p.clockRate[i] = 1 + 0.01 * (2 * r.nextDouble() - 1);
            p.bootAtNanos[i] = r.nextLong(500 * SimParams.MS);
            p.commandMode[i] = SimParams.CommandMode.FAST;
            for (int j = 0; j < n; j++) {
                if (i == j) continue;
                p.linkMinNanos[i][j] = 50_000 + r.nextLong(450_000);
                p.linkJitterNanos[i][j] = r.nextLong(500_000);
            }
        }
        return p;
    }

    /** {election ns, command ns, msgs/s at rest, msgs/s fault..election}, or null if not measured. */
    static double[] run(long seed, int n) {
        SimParams p = steady(seed, n);
        Simulation sim = new Simulation(p, Mutant.none(), false);
        long faultAt = 4000 * SimParams.MS + new SplittableRandom(seed ^ 0xFA17L).nextLong(2000 * SimParams.MS);
        long quietFrom = faultAt / 2;
        long[] at = {-1, -1, -1, -1, -1, -1};   // fault, old term, elected, started, sent at quietFrom, sent at fault
        long[] sentAtElection = {-1};
        sim.q.at(quietFrom, () -> at[4] = sim.net.sent);
        sim.listener = new Simulation.Listener() {
            @Override
            public void onMaster(SimHost h, long term) {
                if (at[0] >= 0 && at[2] < 0 && term > at[1]) {
                    at[2] = sim.now() - at[0];
                    sentAtElection[0] = sim.net.sent;
                }
            }

            @Override
            public void onCommandStart(SimHost h, SimHost.Group g) {
                if (at[0] >= 0 && at[3] < 0 && g.term > at[1]) {
                    at[3] = sim.now() - at[0];
                    sim.stopSoon();
                }
            }
        };
        sim.q.at(faultAt, () -> {
            SimHost m = sim.masterRunningCommand();
            if (m == null) return;
            at[0] = sim.now();
            at[1] = m.roleTerm;
            at[5] = sim.net.sent;
            m.powerLoss();
        });
        sim.runUntil(faultAt + 20_000 * SimParams.MS);
        if (sim.violation != null || at[0] < 0 || at[2] < 0 || at[3] < 0) return null;
        double rest = (at[5] - at[4]) / ((faultAt - quietFrom) / 1e9);
        double inElection = (sentAtElection[0] - at[5]) / (at[2] / 1e9);
        return new double[] {at[2], at[3], rest, inElection};
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: ScaleBench OUT.json [RUNS per size, default 300] [SIZES, default 3,4,5,6,7,8,9]");
            System.exit(2);
        }
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        String[] sizes = (args.length > 2 ? args[2] : "3,4,5,6,7,8,9").split(",");
        StringBuilder json = new StringBuilder("{\"method\": \"");
        json.append("The real core (io.quorumd.core.Node) in the seeded simulator (io.quorumd.sim), virtual time: ")
                .append("default timings, stop_timeout 1 s, a LAN of 0.05-0.5 ms links (+ up to 0.5 ms jitter, no loss), ")
                .append("disks of 0.5-5 ms, ").append(runs).append(" runs per size (seeds 3000000+). Each run settles 4-6 s; ")
                .append("the master's host then loses power (silence, no proof). *Election*: from the fault to the next ")
                .append("master elected; *fail-over*: to its command start (without proof it waits the old lease plus ")
                .append("stop_timeout). *Messages*: every frame copy sent (a keep-alive to k peers counts k), at rest over ")
                .append("the second half of the settling, and from the fault to the election.\", \"sizes\": [");
        boolean firstSize = true;
        for (String sz : sizes) {
            int n = Integer.parseInt(sz.trim());
            List<Double> el = new ArrayList<>();
            List<Double> fo = new ArrayList<>();
            double rest = 0;
            double elect = 0;
            int measured = 0;
            for (int i = 0; i < runs; i++) {
                double[] x = run(3_000_000L + i, n);
                if (x == null) continue;
                measured++;
                el.add(x[0] / 1e6);
                fo.add(x[1] / 1e6);
                rest += x[2];
                elect += x[3];
            }
            if (!firstSize) json.append(", ");
            firstSize = false;
            json.append(String.format(Locale.ROOT, "{\"nodes\": %d, \"measured\": %d, \"messages_per_s_at_rest\": %.1f, "
                    + "\"messages_per_s_in_election\": %.1f, \"election_ms\": %s, \"failover_ms\": %s}", n, measured,
                    measured == 0 ? 0 : rest / measured, measured == 0 ? 0 : elect / measured, list(el), list(fo)));
            System.out.printf(Locale.ROOT, "bench: simulator, %d voters: %d of %d runs measured%n", n, measured, runs);
        }
        json.append("]}\n");
        Path out = Path.of(args[0]);
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        Files.writeString(out, json, StandardCharsets.UTF_8);
    }

    private static String list(List<Double> l) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < l.size(); i++) sb.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.3f", l.get(i)));
        return sb.append(']').toString();
    }
}
