package io.quorumd.bench;

import io.quorumd.control.Json;
import io.quorumd.it.local.KvSocket;
import io.quorumd.it.local.LocalCluster;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The replicated store's throughput and latency, SPEC "Targets": 3 agents on loopback, 64
 * concurrent clients on the master's control socket (one JSON request per connection, as the
 * README documents it), 100-byte values over 1,000 keys; committed writes per second with their
 * latency, then linearizable reads. The same load against etcd (Debian's etcd-server: three
 * members on loopback, its JSON gateway {@code /v3/kv/put} and {@code /v3/kv/range}, default
 * linearizable reads) when it is installed; {@code tests/bench/setup.sh} installs it.
 *
 * <p>Not the same transport, said in the report: etcd's clients keep HTTP/1.1 connections alive,
 * ours open one UNIX connection per request as the CLI does.
 */
public final class KvBench {
    public static final int CLIENTS = 64;
    public static final int VALUE_BYTES = 100;
    public static final int KEYS = 1000;
    static final Path ETCD = Path.of("/usr/bin/etcd");

    /** One phase's numbers: {@code ops} answered with success in {@code seconds}; latencies of those, in ms. */
    public record Phase(String system, String op, int clients, long ops, double seconds, double[] latencyMs,
                        Map<String, Long> failures, String error) {
        double perSecond() {
            return seconds > 0 ? ops / seconds : 0;
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("system", system);
            m.put("op", op);
            m.put("clients", clients);
            m.put("ok", ops);
            m.put("seconds", Math.round(seconds * 100) / 100.0);
            m.put("per_second", Math.round(perSecond()));
            Stats st = Stats.of(latencyMs);
            m.put("p50_ms", st.n() == 0 ? null : Report.f2(st.p50()));
            m.put("p99_ms", st.n() == 0 ? null : Report.f2(st.p99()));
            m.put("max_ms", st.n() == 0 ? null : Report.f2(st.max()));
            m.put("failures", new TreeMap<>(failures));
            m.put("error", error);
            return m;
        }
    }

    public record Result(List<Phase> phases, String etcdVersion, String etcdSkipped) {}

    private final Path work;
    private final Duration window;

    public KvBench(Path work, Duration window) {
        this.work = work;
        this.window = window;
    }

    public Result run() throws Exception {
        List<Phase> phases = new ArrayList<>();
        phases.addAll(quorumd());
        String skipped = etcdUnavailable();
        String version = null;
        if (skipped == null) {
            version = etcdVersion();
            phases.addAll(etcd());
        } else {
            System.out.println("bench: etcd side by side skipped: " + skipped);
        }
        return new Result(phases, version, skipped);
    }

    // ------------------------------------------------------------------ quorumd

    private List<Phase> quorumd() throws Exception {
        Path dir = Files.createDirectories(work.resolve("kv-quorumd"));
        System.out.println("bench: kv: 3 agents, " + CLIENTS + " clients on the master's control socket, " + window.toSeconds()
                + " s per phase");
        try (LocalCluster c = new LocalCluster(dir, 3, new LocalCluster.Options().logLevel("info"))) {
            c.startAll();
            String master = c.awaitMasterRunning(Duration.ofSeconds(30), null);
            Path socket = c.member(master).socket;
            byte[] value = new byte[VALUE_BYTES];
            Arrays.fill(value, (byte) 'v');
            String v = new String(value, StandardCharsets.US_ASCII);
            Op put = (r, id) -> {
                KvSocket.Answer a = KvSocket.call(socket, Map.of("op", "kv.put", "id", id, "key", key(r), "value", v),
                        Duration.ofSeconds(5));
                return a.exit() == 0 ? null : outcome(a);
            };
            Op get = (r, id) -> {
                KvSocket.Answer a = KvSocket.call(socket, Map.of("op", "kv.get", "id", id, "key", key(r)), Duration.ofSeconds(5));
                return a.exit() == 0 || a.exit() == 4 ? null : outcome(a);
            };
            // warm up (JIT, the store's keys): every key written once, not measured
            Phase warm = load("quorumd", "warm-up", put, Duration.ofSeconds(3));
            if (warm.ops() == 0) {
                return List.of(new Phase("quorumd", "put", CLIENTS, 0, 0, new double[0], warm.failures(),
                        "no write succeeded in the warm-up: " + warm.failures() + "\n" + c.logs()));
            }
            List<Phase> out = new ArrayList<>();
            out.add(load("quorumd", "put", put, window));
            out.add(load("quorumd", "get (linearizable)", get, window));
            return out;
        }
    }

    private static String key(SplittableRandom r) {
        return "bench/k" + r.nextInt(KEYS);
    }

    private static String outcome(KvSocket.Answer a) {
        return a.kind() == KvSocket.Kind.ANSWERED ? "exit " + a.exit() : a.kind().name().toLowerCase();
    }

    // ------------------------------------------------------------------ etcd

    static String etcdUnavailable() {
        if (!Files.isExecutable(ETCD)) return "etcd is not installed (tests/bench/setup.sh installs Debian's etcd-server as root)";
        return null;
    }

    static String etcdVersion() {
        return Machine.firstLine(ETCD, "--version");
    }

    private List<Phase> etcd() throws Exception {
        Path dir = Files.createDirectories(work.resolve("kv-etcd"));
        int[] client = new int[3];
        int[] peer = new int[3];
        for (int i = 0; i < 3; i++) {
            client[i] = freePort();
            peer[i] = freePort();
        }
        StringBuilder cluster = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            if (i > 0) cluster.append(',');
            cluster.append("e").append(i + 1).append("=http://127.0.0.1:").append(peer[i]);
        }
        List<Process> members = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                ProcessBuilder pb = new ProcessBuilder(ETCD.toString(), "--name", "e" + (i + 1),
                        "--data-dir", dir.resolve("e" + (i + 1)).toString(),
                        "--listen-client-urls", "http://127.0.0.1:" + client[i],
                        "--advertise-client-urls", "http://127.0.0.1:" + client[i],
                        "--listen-peer-urls", "http://127.0.0.1:" + peer[i],
                        "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer[i],
                        "--initial-cluster", cluster.toString(), "--initial-cluster-state", "new",
                        "--initial-cluster-token", "quorumd-bench", "--log-level", "warn");
                pb.redirectErrorStream(true);
                pb.redirectOutput(dir.resolve("e" + (i + 1) + ".log").toFile());
                members.add(pb.start());
            }
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(2)).executor(java.util.concurrent.Executors.newFixedThreadPool(8)).build();
            // the leader: ask each member's status; clients go to it, as ours go to the master's agent
            String leaderUrl = awaitEtcdLeader(http, client);
            if (leaderUrl == null) {
                return List.of(new Phase("etcd", "put", CLIENTS, 0, 0, new double[0], Map.of(), "no etcd leader within 30 s"));
            }
            Base64.Encoder b64 = Base64.getEncoder();
            byte[] value = new byte[VALUE_BYTES];
            Arrays.fill(value, (byte) 'v');
            String v64 = b64.encodeToString(value);
            Op put = (r, id) -> post(http, leaderUrl + "/v3/kv/put",
                    "{\"key\":\"" + b64.encodeToString(key(r).getBytes(StandardCharsets.UTF_8)) + "\",\"value\":\"" + v64 + "\"}");
            Op get = (r, id) -> post(http, leaderUrl + "/v3/kv/range",
                    "{\"key\":\"" + b64.encodeToString(key(r).getBytes(StandardCharsets.UTF_8)) + "\"}");
            load("etcd", "warm-up", put, Duration.ofSeconds(3));
            List<Phase> out = new ArrayList<>();
            out.add(load("etcd", "put", put, window));
            out.add(load("etcd", "get (linearizable)", get, window));
            return out;
        } finally {
            for (Process p : members) p.destroy();
            for (Process p : members) {
                if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
            }
        }
    }

    private static String awaitEtcdLeader(HttpClient http, int[] client) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (int port : client) {
                String url = "http://127.0.0.1:" + port;
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/v3/maintenance/status"))
                            .timeout(Duration.ofSeconds(2)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200 && Json.parse(r.body()) instanceof Map<?, ?> m
                            && m.get("header") instanceof Map<?, ?> h && m.get("leader") != null
                            && String.valueOf(m.get("leader")).equals(String.valueOf(h.get("member_id")))) {
                        return url;
                    }
                } catch (IOException e) {
                    // not up yet
                }
            }
            Thread.sleep(200);
        }
        return null;
    }

    private static String post(HttpClient http, String url, String body) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? null : "http " + r.statusCode();
        } catch (IOException e) {
            return "io: " + e.getClass().getSimpleName();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    // ------------------------------------------------------------------ the load

    /** One call: null on success, else what went wrong (a short label, counted). */
    interface Op {
        String call(SplittableRandom r, long id);
    }

    /** {@link #CLIENTS} threads calling {@code op} back to back for {@code d}; latencies of the successes. */
    private static Phase load(String system, String name, Op op, Duration d) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        List<double[]> lat = new ArrayList<>();
        List<int[]> counts = new ArrayList<>();
        List<Map<String, Long>> fails = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            double[] l = new double[1 << 20];
            int[] n = {0};
            Map<String, Long> f = new TreeMap<>();
            lat.add(l);
            counts.add(n);
            fails.add(f);
            SplittableRandom r = new SplittableRandom(1000 + i);
            Thread t = new Thread(() -> {
                long id = 0;
                while (!stop.get()) {
                    long t0 = System.nanoTime();
                    String err = op.call(r, ++id);
                    long t1 = System.nanoTime();
                    if (stop.get()) break;   // a call that ended after the window does not count
                    if (err == null) {
                        if (n[0] < l.length) l[n[0]++] = (t1 - t0) / 1e6;
                    } else {
                        f.merge(err, 1L, Long::sum);
                    }
                }
            }, "kv-bench-" + i);
            threads.add(t);
        }
        long start = System.nanoTime();
        for (Thread t : threads) t.start();
        Thread.sleep(d.toMillis());
        stop.set(true);
        double seconds = (System.nanoTime() - start) / 1e9;
        for (Thread t : threads) t.join(10_000);
        int total = 0;
        for (int[] n : counts) total += n[0];
        double[] all = new double[total];
        int k = 0;
        for (int i = 0; i < CLIENTS; i++) {
            System.arraycopy(lat.get(i), 0, all, k, counts.get(i)[0]);
            k += counts.get(i)[0];
        }
        Map<String, Long> failures = new TreeMap<>();
        for (Map<String, Long> f : fails) f.forEach((x, y) -> failures.merge(x, y, Long::sum));
        Phase p = new Phase(system, name, CLIENTS, total, seconds, all, failures, null);
        System.out.printf("bench: kv %s %s: %d ok in %.1f s = %.0f/s%s%n", system, name, total, seconds, p.perSecond(),
                failures.isEmpty() ? "" : ", failures " + failures);
        return p;
    }

    // ------------------------------------------------------------------ the report

    /** kv.md: the table, the targets, and what differs between the two systems. */
    public static String markdown(Result res, Duration window) {
        StringBuilder r = new StringBuilder("\n## Key-value store: throughput and latency\n\n");
        r.append("3 nodes on loopback, ").append(CLIENTS).append(" concurrent clients, ").append(VALUE_BYTES)
                .append("-byte values over ").append(KEYS).append(" keys, ").append(window.toSeconds())
                .append(" s per phase after a 3 s warm-up. quorumd: clients on the master's control socket, one UNIX")
                .append(" connection per request (as the CLI); etcd")
                .append(res.etcdVersion() == null ? "" : " (" + res.etcdVersion() + ")")
                .append(": clients on the leader's JSON gateway, HTTP/1.1 connections kept alive.")
                .append(" Target (SPEC): at least 5,000 committed writes/s with p99 under 20 ms, and 20,000 linearizable reads/s.\n\n");
        r.append("| system | op | ok/s | p50 ms | p99 ms | max ms | failures | target |\n|---|---|---|---|---|---|---|---|\n");
        for (Phase p : res.phases()) {
            Stats st = Stats.of(p.latencyMs());
            String target = !p.system().equals("quorumd") ? "" : p.op().equals("put")
                    ? (p.perSecond() >= 5000 && st.n() > 0 && st.p99() < 20 ? "met" : "missed (5,000/s, p99 < 20 ms)")
                    : (p.perSecond() >= 20000 ? "met" : "missed (20,000/s)");
            r.append("| ").append(p.system()).append(" | ").append(p.op()).append(" | ").append(Math.round(p.perSecond()))
                    .append(" | ").append(Report.f2(st.p50())).append(" | ")
                    .append(Report.f2(st.p99())).append(" | ").append(Report.f2(st.max()))
                    .append(" | ").append(p.failures().isEmpty() ? "none" : p.failures().toString())
                    .append(p.error() == null ? "" : "; " + p.error().lines().findFirst().orElse(""))
                    .append(" | ").append(target).append(" |\n");
        }
        if (res.etcdSkipped() != null) r.append("\netcd skipped: ").append(res.etcdSkipped()).append('\n');
        return r.toString();
    }

    public static List<Object> json(Result res) {
        List<Object> l = new ArrayList<>();
        for (Phase p : res.phases()) l.add(p.json());
        return l;
    }

    /** Alone: {@code java -cp ... io.quorumd.bench.KvBench [WINDOW_S]}; prints the markdown. */
    public static void main(String[] args) throws Exception {
        Duration w = Duration.ofSeconds(args.length > 0 ? Integer.parseInt(args[0]) : 10);
        Path work = Files.createTempDirectory("quorumd-kvbench-");
        Result res = new KvBench(work, w).run();
        System.out.println(markdown(res, w));
    }
}
