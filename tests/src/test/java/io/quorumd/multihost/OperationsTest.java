package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.it.CommandObserver.Run;
import io.quorumd.multihost.Cluster.Node;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.testcontainers.images.builder.Transferable;

/**
 * The operators' features on the installed package, under systemd, across real hosts: the
 * Prometheus endpoint scraped over the network from outside the hosts, and {@code quorumd exec}
 * started by the shipped {@code quorumd-exec@.service} on every host at once, of which only the
 * master runs the script.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class OperationsTest {
    static final int METRICS_PORT = 9851;
    /** One sample of the text format: name, optional labels, value (timestamps are not used by our endpoint). */
    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    /**
     * Every host serves {@code /metrics} on its cluster address; all agree on the master and the
     * term; after {@code docker kill} of the master the new master counts one fail-over labelled
     * with the proof it used (none: {@code lease_expiry}), as its status and log say.
     */
    @Test
    void everyHostIsScrapedOverTheNetworkAndTheFailOverIsCountedWithItsProof() throws Exception {
        try (Cluster c = Cluster.boot("ops-metrics", 3)) {
            c.install();
            c.keygenAll();
            for (Node n : c.nodes) {
                c.configure(n, c.configFor(n) + "metrics:\n  listen: " + n.ip + ":" + METRICS_PORT + "\n");
            }
            c.startAgents();
            Run master = c.awaitSingleMaster();
            Node old = c.nodeOf(master);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            // the followers may learn the term a keep-alive later: poll until every host agrees
            Cluster.await("every host's /metrics names " + old.id + " master in term " + master.term(), Cluster.PATIENCE, () -> {
                for (Node n : c.nodes) {
                    Map<String, Double> m = scrapeQuietly(http, n);
                    if (value(m, "quorumd_master{master=\"" + old.id + "\"}", 0.0) != 1.0) return false;
                    if (value(m, "quorumd_term", -1.0) != master.term()) return false;
                    double role = value(m, "quorumd_role{role=\"master\"}", -1.0);
                    if (role != (n == old ? 1.0 : 0.0)) return false;
                }
                return true;
            });
            Map<String, Double> oldMetrics = scrape(http, old);
            assertEquals(1.0, value(oldMetrics, "quorumd_command_state{state=\"running\"}"), oldMetrics.toString());
            for (Node n : c.others(old)) {
                Map<String, Double> m = scrape(http, n);
                assertEquals(0.0, value(m, "quorumd_command_state{state=\"running\"}"), n.id + ": " + m);
                assertEquals(1.0, value(m, "quorumd_peer_up{peer=\"" + old.id + "\",state=\"up\"}"), n.id + ": " + m);
            }

            long fault = c.kill(old);
            Run next = c.awaitRunStartedAfter(fault, r -> !r.node().equals(old.id), "a new master after docker kill");
            Node now = c.nodeOf(next);
            Map<String, Object> cleared = c.clearance(next);
            assertEquals("lease_expiry", cleared.get("cleared_by"), cleared.toString());
            Map<String, Double> m = scrape(http, now);
            c.report("after docker kill of " + old.id + ": " + now.id + " /metrics: failovers "
                    + filter(m, "quorumd_failovers_total") + ", role master " + value(m, "quorumd_role{role=\"master\"}"));
            assertEquals(1.0, value(m, "quorumd_failovers_total{proof=\"lease_expiry\"}"), "the new master counts the"
                    + " fail-over it waited out, labelled as its status says: " + m);
            assertEquals(0.0, value(m, "quorumd_failovers_total{proof=\"certificate\"}", 0.0), m.toString());
            assertEquals(1.0, value(m, "quorumd_role{role=\"master\"}"), m.toString());
            assertEquals(next.term(), value(m, "quorumd_term"), m.toString());
            Cluster.await(now.id + " reports " + old.id + " down in /metrics", Cluster.PATIENCE, () -> {
                Map<String, Double> peer = filter(scrapeQuietly(http, now), "quorumd_peer_up{peer=\"" + old.id + "\",");
                return peer.size() == 1 && peer.values().iterator().next() == 0.0
                        && !peer.containsKey("quorumd_peer_up{peer=\"" + old.id + "\",state=\"up\"}");
            });
            c.assertExclusive();
        }
    }

    /**
     * The shipped {@code quorumd-exec@.service}, started on every host at the same moment (as its
     * timer does): every unit succeeds, the script ran exactly once, on the master, with the
     * master's term as {@code QUORUMD_TERM}, as the user quorumd.
     */
    @Test
    void theShippedExecUnitRunsTheScriptOnTheMasterOnly() throws Exception {
        try (Cluster c = Cluster.start("ops-exec", 3)) {
            Run master = c.awaitSingleMaster();
            Path log = c.workDir.resolve("observe").resolve("exec.log");
            Files.deleteIfExists(log);
            Files.createFile(log);
            Files.setPosixFilePermissions(log, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
            String script = "#!/bin/sh\necho \"$(cat /proc/sys/kernel/hostname) $QUORUMD_TERM $(id -un)\" >> /observe/exec.log\n";
            for (Node n : c.nodes) {
                // the units as the package ships them (the test image leaves /usr/share/doc out, so
                // they are taken from the very .deb that was installed)
                n.execOk("sh", "-c", "dpkg-deb --fsys-tarfile /var/tmp/quorumd.deb | tar -x -C / --wildcards"
                        + " './usr/share/doc/quorumd/examples/quorumd-exec@*'"
                        + " && cp /usr/share/doc/quorumd/examples/quorumd-exec@.service"
                        + " /usr/share/doc/quorumd/examples/quorumd-exec@.timer /etc/systemd/system/"
                        + " && mkdir -p /etc/quorumd/exec && systemctl daemon-reload");
                n.container.copyFileToContainer(Transferable.of(script.getBytes(StandardCharsets.UTF_8), 0755),
                        "/etc/quorumd/exec/probe");
                n.execOk("systemd-analyze", "verify", "--man=no", "quorumd-exec@probe.service", "quorumd-exec@probe.timer");
            }
            List<Thread> starts = new ArrayList<>();
            Map<String, Integer> exits = new java.util.concurrent.ConcurrentHashMap<>();
            for (Node n : c.nodes) {
                Thread t = new Thread(() -> exits.put(n.id, n.exec("systemctl", "start", "quorumd-exec@probe.service").getExitCode()));
                starts.add(t);
                t.start();
            }
            for (Thread t : starts) t.join(Duration.ofSeconds(60).toMillis());
            for (Node n : c.nodes) {
                assertEquals(0, exits.get(n.id), n.id + ": systemctl start quorumd-exec@probe.service\n"
                        + n.exec("journalctl", "-u", "quorumd-exec@probe.service", "--no-pager", "-o", "cat").getStdout());
                assertEquals("success", n.execOk("systemctl", "show", "-p", "Result", "--value", "quorumd-exec@probe.service").trim(), n.id);
            }
            List<String> lines = Files.readAllLines(log);
            c.report("quorumd-exec@probe.service on all 3 hosts: " + lines);
            assertEquals(List.of(master.node() + " " + master.term() + " quorumd"), lines,
                    "exactly one run, on the master " + master.node() + ", with its term, as quorumd");
            assertEquals(List.of(master.hostPid()), c.observer.running().stream().map(Run::hostPid).toList(),
                    "the managed command is undisturbed");
            c.assertExclusive();
        }
    }

    private static double value(Map<String, Double> m, String key) {
        Double v = m.get(key);
        if (v == null) throw new AssertionError("no sample " + key + " in " + m.keySet());
        return v;
    }

    private static double value(Map<String, Double> m, String key, double absent) {
        return m.getOrDefault(key, absent);
    }

    private static Map<String, Double> filter(Map<String, Double> m, String prefix) {
        Map<String, Double> out = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k, v);
        });
        return out;
    }

    private static Map<String, Double> scrapeQuietly(HttpClient http, Node n) {
        try {
            return scrape(http, n);
        } catch (IOException e) {
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of();
        }
    }

    /**
     * GET http://IP:9851/metrics from the test's JVM (outside the hosts), parsed strictly: every
     * line is a comment ({@code # HELP}/{@code # TYPE}) or one sample; labels are written back in
     * their order, so keys read {@code name{a="x",b="y"}}.
     */
    static Map<String, Double> scrape(HttpClient http, Node n) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + n.ip + ":" + METRICS_PORT + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), n.id + " /metrics: " + r.body());
        String type = r.headers().firstValue("Content-Type").orElse("");
        assertTrue(type.startsWith("text/plain"), n.id + " /metrics Content-Type " + type);
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
            Matcher s = SAMPLE.matcher(line);
            if (!s.matches()) throw new AssertionError(n.id + " /metrics: not a sample: " + line);
            StringBuilder key = new StringBuilder(s.group(1));
            if (s.group(3) != null && !s.group(3).isEmpty()) {
                Matcher l = LABEL.matcher(s.group(3));
                List<String> labels = new ArrayList<>();
                int end = 0;
                while (l.find() && l.start() == end) {
                    labels.add(l.group(1) + "=\"" + l.group(2) + "\"");
                    end = l.end();
                }
                if (end != s.group(3).length()) throw new AssertionError(n.id + " /metrics: bad labels: " + line);
                key.append('{').append(String.join(",", labels)).append('}');
            }
            out.put(key.toString(), Double.parseDouble(s.group(4)));
        }
        return out;
    }
}
