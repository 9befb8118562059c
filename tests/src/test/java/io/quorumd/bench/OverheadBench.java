package io.quorumd.bench;

import io.quorumd.it.local.LocalCluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agents at rest, for one cluster size on loopback (log_level info, as shipped):
 * <ul>
 *   <li>CPU: utime + stime of the agent's JVM (the launcher execs java, so the started process
 *       is the JVM) from /proc/PID/stat over a window in which nothing talks to the agents;</li>
 *   <li>memory: VmRSS from /proc/PID/status at the end of the window;</li>
 *   <li>traffic: every TCP socket of the agent's process, from {@code ss -tinpH} before and after
 *       the window: data segments and bytes sent (keep-alives, vote requests and answers, and
 *       ZMTP's own frames), per second;</li>
 *   <li>start-up: the agent's log line "first keep-alive N ms after start" (its clock starts in
 *       AgentFactory.start, after the JVM booted) and that line's timestamp against the moment
 *       the process was spawned (the JVM's boot included); joining: from the spawn until its
 *       status shows a master (polled every 20 ms).</li>
 * </ul>
 */
final class OverheadBench {
    private static final Pattern FIRST_KA = Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d) .*first keep-alive (\\d+) ms after start");
    private static final long CLK_TCK = 100;

    record NodeSample(int clusterSize, String node, String role, double cpuPercent, long rssKiB, double segsPerSec,
                      double bytesPerSec, long firstKeepAliveAgentMillis, long firstKeepAliveSpawnMillis, long joinMillis) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cluster_size", clusterSize);
            m.put("node", node);
            m.put("role", role);
            m.put("cpu_percent_of_one_core", FailoverBench.num(cpuPercent));
            m.put("rss_kib", rssKiB);
            m.put("tcp_data_segments_sent_per_s", FailoverBench.num(segsPerSec));
            m.put("tcp_bytes_sent_per_s", FailoverBench.num(bytesPerSec));
            m.put("first_keepalive_after_agent_start_ms", firstKeepAliveAgentMillis);
            m.put("first_keepalive_after_spawn_ms", firstKeepAliveSpawnMillis);
            m.put("join_after_spawn_ms", joinMillis);
            return m;
        }
    }

    record Result(int size, double windowSeconds, List<NodeSample> nodes, String error) {}

    private final Path work;
    private final boolean curve;
    private final Duration settle;
    private final Duration window;
    /** With {@code metrics.listen} on every agent, scraped this often during the window; null: metrics off. */
    private final Duration scrapeEvery;
    /** How often Prometheus scrapes each agent in the metrics-on row (its default is 1 min; 15 s is common). */
    static final Duration SCRAPE_EVERY = Duration.ofSeconds(5);

    /** @param curve CURVE on every cluster socket (the normal set-up), or trusted mode */
    OverheadBench(Path work, Duration settle, Duration window, boolean curve) {
        this(work, settle, window, curve, null);
    }

    /** @param scrapeEvery metrics on, each agent's {@code /metrics} fetched this often in the window; null for off */
    OverheadBench(Path work, Duration settle, Duration window, boolean curve, Duration scrapeEvery) {
        this.curve = curve;
        this.work = work;
        this.settle = settle;
        this.window = window;
        this.scrapeEvery = scrapeEvery;
    }

    Result run(int n) throws IOException {
        Path dir = Files.createDirectories(work.resolve("overhead-" + n + (curve ? "-curve" : "-trusted")
                + (scrapeEvery != null ? "-metrics" : "")));
        LocalCluster c = null;
        List<NodeSample> out = new ArrayList<>();
        String error = null;
        try {
            c = new LocalCluster(dir, n, new LocalCluster.Options().stopTimeout("1s").logLevel("info").curve(curve)
                    .metrics(scrapeEvery != null));
            Map<String, LocalTime> spawned = new HashMap<>();
            for (String id : c.members.keySet()) {
                spawned.put(id, LocalTime.now());
                c.start(id);
            }
            Map<String, Long> joined = new HashMap<>();
            LocalCluster cc = c;
            LocalCluster.await(() -> {
                for (String id : cc.members.keySet()) {
                    if (joined.containsKey(id)) continue;
                    Map<String, Object> s = cc.status(id);
                    if (s != null && s.get("master") != null) joined.put(id, (System.nanoTime() - cc.member(id).startedNanos) / 1_000_000);
                }
                return joined.size() == cc.members.size();
            }, Duration.ofSeconds(60), "all " + n + " agents to know a master");
            c.awaitMasterRunning(Duration.ofSeconds(30), null);
            java.net.http.HttpClient http = scrapeEvery != null ? java.net.http.HttpClient.newHttpClient() : null;
            // the first scrape (class loading) belongs to the settling, not to the window
            if (http != null) scrapeAll(http, c);
            Thread.sleep(settle.toMillis());

            Map<String, long[]> cpu0 = new HashMap<>();
            for (LocalCluster.Member m : c.members.values()) cpu0.put(m.id, new long[] {cpuTicks(m.pid())});
            Map<Long, long[]> tcp0 = tcpByPid();
            long w0 = System.nanoTime();
            int scrapes = 0;
            if (http == null) {
                Thread.sleep(window.toMillis());
            } else {
                long end = w0 + window.toNanos();
                for (long next = w0; next < end; next += scrapeEvery.toNanos()) {
                    Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000));
                    scrapes += scrapeAll(http, c);
                }
                Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000));
            }
            long w1 = System.nanoTime();
            Map<Long, long[]> tcp1 = tcpByPid();
            double secs = (w1 - w0) / 1e9;
            for (LocalCluster.Member m : c.members.values()) {
                long ticks = cpuTicks(m.pid()) - cpu0.get(m.id)[0];
                double cpu = 100.0 * ticks / CLK_TCK / secs;
                long rss = rssKiB(m.pid());
                long[] a = tcp0.getOrDefault(m.pid(), new long[2]);
                long[] b = tcp1.getOrDefault(m.pid(), new long[2]);
                long[] ka = firstKeepAlive(c.log(m.id), spawned.get(m.id));
                Map<String, Object> s = c.status(m.id);
                out.add(new NodeSample(n, m.id, LocalCluster.role(s), cpu, rss, (b[0] - a[0]) / secs, (b[1] - a[1]) / secs,
                        ka[0], ka[1], joined.get(m.id)));
            }
            System.out.printf("bench: overhead of %d nodes measured over %.1f s%s%n", n, secs,
                    http != null ? " with metrics on (" + scrapes + " scrapes of /metrics)" : "");
            return new Result(n, secs, out, null);
        } catch (Exception | AssertionError e) {
            error = e.toString();
            System.out.println("bench: overhead of " + n + " nodes failed: " + e);
            return new Result(n, window.toSeconds(), out, error);
        } finally {
            if (c != null) c.close();
        }
    }

    /** One GET of every agent's {@code /metrics}; returns how many answered 200 with samples in them. */
    private static int scrapeAll(java.net.http.HttpClient http, LocalCluster c) throws IOException, InterruptedException {
        int ok = 0;
        for (LocalCluster.Member m : c.members.values()) {
            java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + m.metricsPort + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200 || !r.body().contains("quorumd_term ")) {
                throw new IOException(m.id + " /metrics answered " + r.statusCode() + ": " + r.body());
            }
            ok++;
        }
        return ok;
    }

    /** utime + stime of the whole process (every thread), in clock ticks. */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields after "(comm) ": state is [0]; utime is field 14 of stat, i.e. [11]; stime [12]
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static long rssKiB(long pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"), StandardCharsets.US_ASCII)) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        throw new IOException("no VmRSS in /proc/" + pid + "/status");
    }

    /** pid -> {data segments sent, bytes sent}, summed over its TCP sockets. */
    static Map<Long, long[]> tcpByPid() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ss", "-tinpH").redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Map<Long, long[]> m = new HashMap<>();
        Pattern pidP = Pattern.compile("pid=(\\d+)");
        Pattern segs = Pattern.compile("\\bdata_segs_out:(\\d+)");
        Pattern bytes = Pattern.compile("\\bbytes_sent:(\\d+)");
        long current = -1;
        for (String line : text.split("\n")) {
            if (!line.startsWith("\t") && !line.startsWith(" ")) {
                Matcher mp = pidP.matcher(line);
                current = mp.find() ? Long.parseLong(mp.group(1)) : -1;
                continue;
            }
            if (current < 0) continue;
            long[] acc = m.computeIfAbsent(current, k -> new long[2]);
            Matcher ms = segs.matcher(line);
            if (ms.find()) acc[0] += Long.parseLong(ms.group(1));
            Matcher mb = bytes.matcher(line);
            if (mb.find()) acc[1] += Long.parseLong(mb.group(1));
        }
        return m;
    }

    /** {agent-reported ms, ms from the spawn to the log line's timestamp}; -1 when absent. */
    static long[] firstKeepAlive(Path log, LocalTime spawned) throws IOException {
        for (String l : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            Matcher mt = FIRST_KA.matcher(l);
            if (!mt.find()) continue;
            long agent = Long.parseLong(mt.group(2));
            long fromSpawn = -1;
            try {
                LocalTime at = LocalTime.parse(mt.group(1));
                fromSpawn = Duration.between(spawned, at).toMillis();
                if (fromSpawn < 0) fromSpawn += Duration.ofDays(1).toMillis();
            } catch (DateTimeParseException e) {
                // keep -1
            }
            return new long[] {agent, fromSpawn};
        }
        return new long[] {-1, -1};
    }

    /**
     * The metrics-on row beside the same cluster's rest without metrics: what {@code metrics.listen}
     * and a scrape every {@link #SCRAPE_EVERY} cost an agent (issue 15: report both against the
     * lean-agent targets).
     */
    static String metricsMarkdown(Result off, Result on) {
        StringBuilder r = new StringBuilder("\n## At rest with metrics on\n\n");
        r.append("3 agents as in \"At rest\", each with `metrics.listen` on 127.0.0.1 and its `/metrics` fetched every ")
                .append(SCRAPE_EVERY.toSeconds()).append(" s during the window (Prometheus' default is 1 min), against the ")
                .append("same measurement without metrics. Targets per agent: CPU < 0.5 % of one core, RSS < 48 MiB.\n\n");
        r.append("| metrics | CPU % per agent: mean / max | RSS MiB: mean / max |\n|---|---|---|\n");
        row(r, "off", off);
        row(r, "on, scraped every " + SCRAPE_EVERY.toSeconds() + " s", on);
        return r.append('\n').toString();
    }

    private static void row(StringBuilder r, String label, Result res) {
        r.append("| ").append(label).append(" | ");
        if (res == null || res.nodes().isEmpty()) {
            r.append("not measured").append(res != null ? " (" + res.error() + ")" : "").append(" | |\n");
            return;
        }
        Stats c = Stats.of(res.nodes().stream().map(NodeSample::cpuPercent).toList());
        Stats m = Stats.of(res.nodes().stream().map(x -> x.rssKiB() / 1024.0).toList());
        r.append(String.format(java.util.Locale.ROOT, "%.2f / %.2f | %.1f / %.1f |%n", c.mean(), c.max(), m.mean(), m.max()));
    }
}
