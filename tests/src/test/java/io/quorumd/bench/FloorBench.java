package io.quorumd.bench;

import io.quorumd.it.local.LocalCluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.zeromq.ZMQ;

/**
 * Where an idle agent's cycles go, by floors: three JVMs started with the launcher's own options
 * ({@code DEFAULT_OPTS} read from the launcher), each keeping the same traffic as an idle agent
 * (a 120-byte frame to every other node every 100 ms) with nothing else to do ({@link FloorNode}),
 * in four ways: a sleeping JVM, plain UDP, JeroMQ PUB/SUB with one application thread, the same
 * under CURVE; then three real agents (CURVE, default timings) measured the same way. Per process
 * over the window: CPU (utime + stime of every thread, /proc/PID/stat), context switches
 * (voluntary + involuntary, summed over /proc/PID/task/{@literal *}/status: each is a thread going
 * to sleep or being preempted, i.e. about one wake-up), threads and RSS. The differences between
 * rows are the breakdown issue 12 asks for: the runtime, the transport library, then quorumd's own.
 */
final class FloorBench {
    record Row(String what, int processes, double cpuPercentMean, double cpuPercentMax, double switchesPerSec,
               int threads, double rssMiBMean, String error) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("what", what);
            m.put("processes", processes);
            m.put("cpu_percent_mean", FailoverBench.num(cpuPercentMean));
            m.put("cpu_percent_max", FailoverBench.num(cpuPercentMax));
            m.put("context_switches_per_s", FailoverBench.num(switchesPerSec));
            m.put("threads", threads);
            m.put("rss_mib_mean", FailoverBench.num(rssMiBMean));
            m.put("error", error);
            return m;
        }
    }

    private static final long CLK_TCK = 100;
    static final String[] MODES = {"idle", "udp", "zmq", "zmq-no-heartbeat", "zmq-one-sub", "zmq-curve"};
    private final Path work;
    private final Duration settle;
    private final Duration window;

    FloorBench(Path work, Duration settle, Duration window) {
        this.work = work;
        this.settle = settle;
        this.window = window;
    }

    List<Row> run() {
        List<Row> rows = new ArrayList<>();
        int base = 47100;
        for (String mode : MODES) {
            rows.add(floor(mode, base));
            base += 10;
        }
        rows.add(agents());
        return rows;
    }

    private Row floor(String mode, int base) {
        int n = 3;
        List<Process> ps = new ArrayList<>();
        try {
            List<String> pub = new ArrayList<>();
            List<String> sec = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ZMQ.Curve.KeyPair k = ZMQ.Curve.generateKeyPair();
                pub.add(k.publicKey);
                sec.add(k.secretKey);
            }
            String java = ProcessHandle.current().info().command().orElse("java");
            for (int i = 0; i < n; i++) {
                List<String> cmd = new ArrayList<>(List.of(java));
                cmd.addAll(launcherOptions());
                cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FloorNode.class.getName(), mode,
                        Integer.toString(i), Integer.toString(n), Integer.toString(base)));
                if (mode.equals("zmq-curve")) {
                    cmd.add(String.join(",", pub));
                    cmd.add(sec.get(i));
                }
                ps.add(new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(work.resolve("floor-" + mode + "-" + i + ".log").toFile()).start());
            }
            List<Long> pids = new ArrayList<>();
            for (Process p : ps) pids.add(p.pid());
            Row r = measure("floor: " + mode, pids);
            for (Process p : ps) {
                if (!p.isAlive()) return new Row(r.what(), n, 0, 0, 0, 0, 0, "a floor node exited: see " + work);
            }
            return r;
        } catch (Exception e) {
            System.out.println("bench: floor " + mode + " failed: " + e);
            return new Row("floor: " + mode, n, 0, 0, 0, 0, 0, e.toString());
        } finally {
            for (Process p : ps) p.destroyForcibly();
        }
    }

    private Row agents() {
        LocalCluster c = null;
        try {
            c = new LocalCluster(Files.createDirectories(work.resolve("floor-agents")), 3,
                    new LocalCluster.Options().stopTimeout("1s").logLevel("info").curve(true));
            for (String id : c.members.keySet()) c.start(id);
            c.awaitMasterRunning(Duration.ofSeconds(60), null);
            List<Long> pids = new ArrayList<>();
            for (LocalCluster.Member m : c.members.values()) pids.add(m.pid());
            return measure("quorumd agents (CURVE)", pids);
        } catch (Exception | AssertionError e) {
            System.out.println("bench: floor's agent row failed: " + e);
            return new Row("quorumd agents (CURVE)", 3, 0, 0, 0, 0, 0, e.toString());
        } finally {
            if (c != null) c.close();
        }
    }

    private Row measure(String what, List<Long> pids) throws IOException, InterruptedException {
        Thread.sleep(settle.toMillis());
        long[] cpu0 = new long[pids.size()];
        long[] sw0 = new long[pids.size()];
        for (int i = 0; i < pids.size(); i++) {
            cpu0[i] = OverheadBench.cpuTicks(pids.get(i));
            sw0[i] = switches(pids.get(i));
        }
        long t0 = System.nanoTime();
        Thread.sleep(window.toMillis());
        double secs = (System.nanoTime() - t0) / 1e9;
        double sum = 0;
        double max = 0;
        double sw = 0;
        double rss = 0;
        int threads = 0;
        for (int i = 0; i < pids.size(); i++) {
            long pid = pids.get(i);
            double cpu = 100.0 * (OverheadBench.cpuTicks(pid) - cpu0[i]) / CLK_TCK / secs;
            sum += cpu;
            max = Math.max(max, cpu);
            sw += (switches(pid) - sw0[i]) / secs;
            rss += OverheadBench.rssKiB(pid) / 1024.0;
            threads = Math.max(threads, threads(pid));
        }
        int n = pids.size();
        System.out.printf(Locale.ROOT, "bench: %s: %.2f %% of a core, %.0f switches/s, %d threads, %.1f MiB per process%n",
                what, sum / n, sw / n, threads, rss / n);
        return new Row(what, n, sum / n, max, sw / n, threads, rss / n, null);
    }

    /** Voluntary plus involuntary context switches of every thread of the process. */
    static long switches(long pid) throws IOException {
        long total = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks) {
                try {
                    for (String l : Files.readAllLines(t.resolve("status"), StandardCharsets.US_ASCII)) {
                        if (l.startsWith("voluntary_ctxt_switches:") || l.startsWith("nonvoluntary_ctxt_switches:"))
                            total += Long.parseLong(l.replaceAll("[^0-9]", ""));
                    }
                } catch (IOException e) {
                    // the thread ended between the listing and the read
                }
            }
        }
        return total;
    }

    private static int threads(long pid) throws IOException {
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return (int) s.count();
        }
    }

    /** The launcher's {@code DEFAULT_OPTS}, so the floors run on the same JVM settings as the agents. */
    static List<String> launcherOptions() throws IOException {
        Matcher m = Pattern.compile("(?m)^DEFAULT_OPTS=\"([^\"]*)\"").matcher(Files.readString(LocalCluster.LAUNCHER));
        if (!m.find()) throw new IOException("no DEFAULT_OPTS in " + LocalCluster.LAUNCHER);
        return List.of(m.group(1).trim().split("\\s+"));
    }

    static String markdown(List<Row> rows, Duration window, String load) {
        StringBuilder sb = new StringBuilder("\n## Where an idle agent's cycles go: floors\n\n");
        sb.append("Three JVMs per row with the launcher's options, each sending a 120-byte frame to the two others every")
                .append(" 100 ms and reading theirs (the traffic of an idle agent's keep-alives), nothing else; then three")
                .append(" real agents. ").append(window.toSeconds()).append(" s window per row; load average at the end: ")
                .append(load).append(".\n\n");
        sb.append("| row | CPU % of one core, mean / max | context switches/s | threads | RSS MiB |\n|---|---|---|---|---|\n");
        for (Row r : rows) {
            if (r.error() != null) {
                sb.append("| ").append(r.what()).append(" | failed: ").append(r.error()).append(" | | | |\n");
                continue;
            }
            sb.append(String.format(Locale.ROOT, "| %s | %.2f / %.2f | %.0f | %d | %.1f |%n", r.what(), r.cpuPercentMean(),
                    r.cpuPercentMax(), r.switchesPerSec(), r.threads(), r.rssMiBMean()));
        }
        return sb.toString();
    }
}
