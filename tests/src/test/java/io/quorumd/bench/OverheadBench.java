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

    /** @param curve CURVE on every cluster socket (the normal set-up), or trusted mode */
    OverheadBench(Path work, Duration settle, Duration window, boolean curve) {
        this.curve = curve;
        this.work = work;
        this.settle = settle;
        this.window = window;
    }

    Result run(int n) throws IOException {
        Path dir = Files.createDirectories(work.resolve("overhead-" + n + (curve ? "-curve" : "-trusted")));
        LocalCluster c = null;
        List<NodeSample> out = new ArrayList<>();
        String error = null;
        try {
            c = new LocalCluster(dir, LocalCluster.loopback(n), "1s", "", "info", curve);
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
            Thread.sleep(settle.toMillis());

            Map<String, long[]> cpu0 = new HashMap<>();
            for (LocalCluster.Member m : c.members.values()) cpu0.put(m.id, new long[] {cpuTicks(m.pid())});
            Map<Long, long[]> tcp0 = tcpByPid();
            long w0 = System.nanoTime();
            Thread.sleep(window.toMillis());
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
            System.out.printf("bench: overhead of %d nodes measured over %.1f s%n", n, secs);
            return new Result(n, secs, out, null);
        } catch (Exception | AssertionError e) {
            error = e.toString();
            System.out.println("bench: overhead of " + n + " nodes failed: " + e);
            return new Result(n, window.toSeconds(), out, error);
        } finally {
            if (c != null) c.close();
        }
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
}
