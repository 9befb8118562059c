package io.quorumd.bench;

import io.quorumd.control.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code make bench [QUICK=1]}: fail-over of real agents per fault, the agents' overhead at rest
 * per cluster size, the command supervisor's and watchdog's speed ({@link io.quorumd.command.CommandBench}),
 * and (if given) the simulator's scale numbers; writes a dated directory with
 * samples.json, report.md and PNG plots, and prints the report's path last.
 *
 * <pre>
 * java -cp TEST_CLASSPATH io.quorumd.bench.BenchMain [--quick] [--out bench-results] [--trials N]
 *      [--sizes 3,5,9] [--window-s 20] [--scenarios KILL_RESTART,KILL,...] [--scale scale.json] [--keep] [--log-level debug]
 *      [--no-trusted] [--no-keepalived] [--keepalived-only] [--keepalived-scenarios KILL_RESTART,KILL,SIGSTOP]
 *      [--no-kv] [--kv-only]
 * </pre>
 * The key-value store's throughput and latency ({@link KvBench}, 64 clients; beside etcd when it is
 * installed) lands in kv.md and at the end of report.md; {@code --kv-only} runs only that,
 * {@code --no-kv} skips it.
 * With keepalived installed (and root), the same kill -9, kill -9 + restart and SIGSTOP faults
 * hit three keepalived instances too ({@link KeepalivedBench}), and keepalived.md (also appended
 * to report.md) puts them beside quorumd's rows; without it that set is skipped with a message.
 * {@code --keepalived-only} runs that set and quorumd's matching 3-node scenarios and rest only.
 * The agents run under CURVE (the normal set-up); the same fail-over scenarios (3 nodes) and the
 * overhead of 3 nodes run again in trusted mode, and {@code curve.md} puts the two side by side
 * ({@code --no-trusted} skips that second pass).
 * Not a JUnit test (no class here ends in Test): {@code make test} never runs it.
 */
public final class BenchMain {
    private BenchMain() {}

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        boolean quick = false;
        boolean keep = false;
        boolean trusted = true;
        boolean withKeepalived = true;
        boolean keepalivedOnly = false;
        boolean kv = true;
        boolean kvOnly = false;
        boolean floor = true;
        boolean floorOnly = false;
        List<KeepalivedBench.Scenario> kaScenarios = new ArrayList<>(List.of(KeepalivedBench.Scenario.values()));
        String logLevel = "info";
        Path out = Path.of("bench-results");
        Integer trials = null;
        int[] sizes = null;
        Integer windowS = null;
        List<FailoverBench.Scenario> scenarios = new ArrayList<>(List.of(FailoverBench.Scenario.values()));
        Path scale = null;
        String command = "java io.quorumd.bench.BenchMain " + String.join(" ", args);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--quick" -> quick = true;
                case "--keep" -> keep = true;
                case "--no-trusted" -> trusted = false;
                case "--no-keepalived" -> withKeepalived = false;
                case "--keepalived-only" -> keepalivedOnly = true;
                case "--no-kv" -> kv = false;
                case "--kv-only" -> kvOnly = true;
                case "--no-floor" -> floor = false;
                case "--floor-only" -> floorOnly = true;
                case "--log-level" -> logLevel = value(args, ++i, a);
                case "--out" -> out = Path.of(value(args, ++i, a));
                case "--trials" -> trials = Integer.parseInt(value(args, ++i, a));
                case "--sizes" -> sizes = Arrays.stream(value(args, ++i, a).split(",")).filter(x -> !x.equals("none")).mapToInt(Integer::parseInt).toArray();
                case "--keepalived-scenarios" -> {
                    kaScenarios.clear();
                    for (String s : value(args, ++i, a).split(",")) if (!s.equals("none")) kaScenarios.add(KeepalivedBench.Scenario.valueOf(s.trim()));
                }
                case "--window-s" -> windowS = Integer.parseInt(value(args, ++i, a));
                case "--scale" -> scale = Path.of(value(args, ++i, a));
                case "--scenarios" -> {
                    scenarios.clear();
                    for (String s : value(args, ++i, a).split(",")) if (!s.equals("none")) scenarios.add(FailoverBench.Scenario.valueOf(s.trim()));
                }
                default -> {
                    System.err.println("bench: unknown argument " + a + " (expected --quick, --out DIR, --trials N, "
                            + "--sizes 3,5,9, --window-s S, --scenarios A,B, --scale FILE, --kv-only, --no-kv, --floor-only, --no-floor, ...)");
                    System.exit(2);
                }
            }
        }
        if (keepalivedOnly) {
            scenarios.retainAll(List.of(FailoverBench.Scenario.KILL_RESTART, FailoverBench.Scenario.KILL, FailoverBench.Scenario.SIGSTOP));
            sizes = new int[] {3};
            trusted = false;
            scale = null;
        }
        if (kvOnly) {
            runKvOnly(out, quick, windowS == null ? (quick ? 10 : 20) : windowS);
            return;
        }
        if (floorOnly) {
            runFloorOnly(out, windowS == null ? 20 : windowS);
            return;
        }
        if (trials == null) trials = quick ? 5 : 30;
        if (sizes == null) sizes = quick ? new int[] {3, 5} : new int[] {3, 5, 9};
        if (windowS == null) windowS = quick ? 10 : 20;

        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HHmm"));
        Path dir = Files.createDirectories(out.resolve(stamp));
        Path work = Files.createTempDirectory("quorumd-bench-");
        Machine machine = Machine.describe();
        System.out.println("bench: " + (quick ? "QUICK " : "") + "run into " + dir + " (agents' files in " + work + ")");

        long began = System.nanoTime();
        List<FailoverBench.Result> failovers = new ArrayList<>();
        FailoverBench fb = new FailoverBench(work, trials, 20261202L, logLevel, true);
        for (FailoverBench.Scenario sc : scenarios) failovers.add(fb.run(sc));
        List<OverheadBench.Result> overheads = new ArrayList<>();
        OverheadBench ob = new OverheadBench(work, Duration.ofSeconds(quick ? 3 : 5), Duration.ofSeconds(windowS), true);
        for (int n : sizes) overheads.add(ob.run(n));
        // the same rest with metrics.listen on every agent and each /metrics scraped every 5 s
        OverheadBench.Result metricsOn = new OverheadBench(work, Duration.ofSeconds(quick ? 3 : 5), Duration.ofSeconds(windowS), true,
                OverheadBench.SCRAPE_EVERY).run(3);
        List<FailoverBench.Result> trustedFailovers = new ArrayList<>();
        OverheadBench.Result trustedOverhead = null;
        if (trusted) {
            FailoverBench tfb = new FailoverBench(work, trials, 20261202L, logLevel, false);
            for (FailoverBench.Scenario sc : scenarios) trustedFailovers.add(tfb.run(sc));
            trustedOverhead = new OverheadBench(work, Duration.ofSeconds(quick ? 3 : 5), Duration.ofSeconds(windowS), false).run(3);
        }
        io.quorumd.command.CommandBench.Result supervisor = io.quorumd.command.CommandBench.run(work, quick ? 10 : 30);
        String kaMissing = withKeepalived ? KeepalivedBench.unavailable() : "--no-keepalived";
        List<KeepalivedBench.Result> kaResults = new ArrayList<>();
        KeepalivedBench.RestResult kaRest = null;
        if (kaMissing == null) {
            KeepalivedBench kb = new KeepalivedBench(work, trials, 20261206L);
            for (KeepalivedBench.Scenario sc : kaScenarios) kaResults.add(kb.run(sc));
            kaRest = kb.rest(Duration.ofSeconds(quick ? 3 : 5), Duration.ofSeconds(windowS));
        } else {
            System.out.println("bench: keepalived scenarios skipped: " + kaMissing);
        }
        KvBench.Result kvResult = kv ? new KvBench(work, Duration.ofSeconds(quick ? 10 : 20)).run() : null;
        List<FloorBench.Row> floors = floor ? new FloorBench(work, Duration.ofSeconds(quick ? 3 : 5), Duration.ofSeconds(windowS)).run()
                : null;
        Object scaleData = null;
        if (scale != null && Files.exists(scale)) scaleData = Json.parse(Files.readString(scale, StandardCharsets.UTF_8));
        double minutes = (System.nanoTime() - began) / 6e10;
        String loadEnd = Machine.loadavg();

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", stamp);
        json.put("quick", quick);
        json.put("command", command);
        json.put("machine", machine.json());
        json.put("load_average_at_end", loadEnd);
        json.put("minutes", Math.round(minutes * 10) / 10.0);
        json.put("stop_timeout", FailoverBench.STOP_TIMEOUT);
        List<Object> fo = new ArrayList<>();
        for (FailoverBench.Result r : failovers) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("scenario", r.scenario().name());
            m.put("what", r.scenario().what);
            m.put("target", r.scenario().target);
            m.put("overlaps", r.overlaps());
            m.put("error", r.error());
            List<Object> s = new ArrayList<>();
            for (FailoverBench.Sample x : r.samples()) s.add(x.json());
            m.put("samples", s);
            fo.add(m);
        }
        json.put("failover", fo);
        List<Object> ov = new ArrayList<>();
        for (OverheadBench.Result r : overheads) ov.add(overheadJson(r));
        json.put("overhead", ov);
        Map<String, Object> mo = overheadJson(metricsOn);
        mo.put("scrape_every_s", OverheadBench.SCRAPE_EVERY.toSeconds());
        json.put("overhead_metrics_on", mo);
        if (kaMissing == null) {
            Map<String, Object> ka = new LinkedHashMap<>();
            ka.put("version", KeepalivedBench.version());
            List<Object> kf = new ArrayList<>();
            for (KeepalivedBench.Result r : kaResults) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("scenario", r.scenario().name());
                m.put("what", r.scenario().what);
                m.put("error", r.error());
                m.put("strays_stopped_by_bench", r.strays());
                m.put("notify_master_rerun_by_bench", r.restarted());
                List<Object> s = new ArrayList<>();
                for (KeepalivedBench.Sample x : r.samples()) s.add(x.json());
                m.put("samples", s);
                kf.add(m);
            }
            ka.put("failover", kf);
            List<Object> kr = new ArrayList<>();
            if (kaRest != null) for (KeepalivedBench.Rest x : kaRest.nodes()) kr.add(x.json());
            ka.put("rest", kr);
            json.put("keepalived", ka);
        } else {
            json.put("keepalived", "skipped: " + kaMissing);
        }
        json.put("scale", scaleData);
        json.put("kv", kvResult == null ? "skipped: --no-kv" : KvBench.json(kvResult));
        json.put("floors", floors == null ? "skipped: --no-floor" : floorJson(floors));
        Map<String, Object> cmd = new LinkedHashMap<>();
        cmd.put("start_ms", toList(supervisor.startMillis()));
        cmd.put("stop_ms", toList(supervisor.stopMillis()));
        cmd.put("sigkill_late_ms", toList(supervisor.killLateMillis()));
        cmd.put("stop_in_backoff_ms", toList(supervisor.backoffStopMillis()));
        cmd.put("watchdog_cpu_ms_per_2s", supervisor.watchdogCpuMsPer2s());
        cmd.put("error", supervisor.error());
        json.put("command_supervisor", cmd);
        Files.writeString(dir.resolve("samples.json"), pretty(json), StandardCharsets.UTF_8);

        Report.write(dir, stamp, quick, machine, loadEnd, minutes, failovers, overheads, scaleData, trials, windowS);
        Files.writeString(dir.resolve("report.md"), supervisor.markdown(), StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        Files.writeString(dir.resolve("report.md"), OverheadBench.metricsMarkdown(
                        overheads.stream().filter(r -> r.size() == 3).findFirst().orElse(null), metricsOn),
                StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        if (trusted) {
            OverheadBench.Result curve3 = overheads.stream().filter(r -> r.size() == 3).findFirst().orElse(null);
            CurveReport.write(dir, failovers, trustedFailovers, curve3, trustedOverhead);
        }
        OverheadBench.Result rest3 = overheads.stream().filter(r -> r.size() == 3).findFirst().orElse(null);
        if (kaMissing == null) KeepalivedReport.write(dir, KeepalivedBench.version(), failovers, kaResults, rest3, kaRest, loadEnd);
        else KeepalivedReport.skipped(dir, kaMissing);
        if (kvResult != null) {
            String md = KvBench.markdown(kvResult, Duration.ofSeconds(quick ? 10 : 20));
            Files.writeString(dir.resolve("kv.md"), md, StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("report.md"), md, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        }
        if (floors != null) {
            Files.writeString(dir.resolve("report.md"), FloorBench.markdown(floors, Duration.ofSeconds(windowS), Machine.loadavg()),
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        }
        if (keep) System.out.println("bench: the agents' configs and logs are kept in " + work);
        else deleteTree(work);
        System.out.println("bench: report " + dir.resolve("report.md"));
    }

    /** {@code --kv-only}: the store's bench alone, into its own dated directory. */
    private static void runKvOnly(Path out, boolean quick, int windowS) throws Exception {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HHmm"));
        Path dir = Files.createDirectories(out.resolve(stamp + "-kv"));
        Path work = Files.createTempDirectory("quorumd-bench-");
        Machine machine = Machine.describe();
        KvBench.Result res = new KvBench(work, Duration.ofSeconds(windowS)).run();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", stamp);
        json.put("quick", quick);
        json.put("machine", machine.json());
        json.put("load_average_at_end", Machine.loadavg());
        json.put("kv", KvBench.json(res));
        Files.writeString(dir.resolve("samples.json"), pretty(json), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("report.md"), "# quorumd bench " + stamp + " (key-value store only)\n\nLoad average at the end: "
                + Machine.loadavg() + "\n" + KvBench.markdown(res, Duration.ofSeconds(windowS)), StandardCharsets.UTF_8);
        deleteTree(work);
        System.out.println("bench: report " + dir.resolve("report.md"));
    }

    /** {@code --floor-only}: where an idle agent's cycles go ({@link FloorBench}), into its own dated directory. */
    private static void runFloorOnly(Path out, int windowS) throws Exception {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HHmm"));
        Path dir = Files.createDirectories(out.resolve(stamp + "-floor"));
        Path work = Files.createTempDirectory("quorumd-bench-");
        Machine machine = Machine.describe();
        String loadStart = Machine.loadavg();
        List<FloorBench.Row> rows = new FloorBench(work, Duration.ofSeconds(5), Duration.ofSeconds(windowS)).run();
        String loadEnd = Machine.loadavg();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", stamp);
        json.put("machine", machine.json());
        json.put("load_average_at_start", loadStart);
        json.put("load_average_at_end", loadEnd);
        json.put("floors", floorJson(rows));
        Files.writeString(dir.resolve("samples.json"), pretty(json), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("report.md"), "# quorumd bench " + stamp + " (floors only)\n\nLoad average at the start: "
                + loadStart + "\n" + FloorBench.markdown(rows, Duration.ofSeconds(windowS), loadEnd), StandardCharsets.UTF_8);
        deleteTree(work);
        System.out.println("bench: report " + dir.resolve("report.md"));
    }

    private static List<Object> floorJson(List<FloorBench.Row> rows) {
        List<Object> l = new ArrayList<>();
        for (FloorBench.Row r : rows) l.add(r.json());
        return l;
    }

    private static Map<String, Object> overheadJson(OverheadBench.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cluster_size", r.size());
        m.put("window_s", Math.round(r.windowSeconds() * 100) / 100.0);
        m.put("error", r.error());
        List<Object> s = new ArrayList<>();
        for (OverheadBench.NodeSample x : r.nodes()) s.add(x.json());
        m.put("nodes", s);
        return m;
    }

    private static List<Object> toList(long[] a) {
        List<Object> l = new ArrayList<>();
        for (long x : a) l.add(x);
        return l;
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            System.err.println("bench: " + flag + " needs a value");
            System.exit(2);
        }
        return args[i];
    }

    /** One sample per line: diff-friendly and still one JSON document. */
    static String pretty(Map<String, Object> json) {
        StringBuilder sb = new StringBuilder("{\n");
        boolean first = true;
        for (Map.Entry<String, Object> e : json.entrySet()) {
            if (!first) sb.append(",\n");
            first = false;
            sb.append("  ");
            Json.quote(e.getKey(), sb);
            sb.append(": ");
            Object v = e.getValue();
            if (v instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Map) {
                sb.append("[\n");
                for (int i = 0; i < l.size(); i++) {
                    Map<?, ?> m = (Map<?, ?>) l.get(i);
                    sb.append("    {");
                    boolean f2 = true;
                    for (Map.Entry<?, ?> e2 : m.entrySet()) {
                        if (!f2) sb.append(", ");
                        f2 = false;
                        Json.quote((String) e2.getKey(), sb);
                        sb.append(": ");
                        if (e2.getValue() instanceof List<?> inner && !inner.isEmpty() && inner.get(0) instanceof Map) {
                            sb.append("[\n");
                            for (int j = 0; j < inner.size(); j++) {
                                sb.append("      ").append(Json.write(inner.get(j))).append(j + 1 < inner.size() ? ",\n" : "\n");
                            }
                            sb.append("    ]");
                        } else {
                            sb.append(Json.write(e2.getValue()));
                        }
                    }
                    sb.append('}').append(i + 1 < l.size() ? ",\n" : "\n");
                }
                sb.append("  ]");
            } else {
                sb.append(Json.write(v));
            }
        }
        return sb.append("\n}\n").toString();
    }

    private static void deleteTree(Path p) {
        try (var s = Files.walk(p)) {
            s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(x -> {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException e) {
                    // a socket or file left by an agent: harmless in /tmp
                }
            });
        } catch (IOException e) {
            // nothing to delete
        }
    }
}
