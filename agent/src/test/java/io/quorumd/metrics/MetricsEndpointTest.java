package io.quorumd.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quorumd.Agent;
import io.quorumd.cli.FreePorts;
import io.quorumd.config.Config;
import io.quorumd.config.ConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code metrics.listen} end to end: real agents (sockets, state files, the loop) in a two-node
 * cluster on loopback, scraped over HTTP, every scrape parsed strictly ({@link Exposition}); the
 * values must follow what happens: no master while one node is alone, then a master and a higher
 * term once the other comes, and the other's silence once it stops.
 */
class MetricsEndpointTest {
    @TempDir
    Path tmp;
    private final io.quorumd.TestAgents agents = new io.quorumd.TestAgents();

    @AfterEach
    void stopAll() throws InterruptedException {
        agents.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Config config(String node, String peers, String extra) throws Exception {
        return ConfigLoader.load(io.quorumd.TestAgents.configFile(tmp, node, peers, "{heartbeat: 50ms, election_timeout: 300ms}", extra));
    }

    private Agent start(Config c) throws Exception {
        return agents.start(c);
    }

    static Exposition scrape(int port) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + "/metrics").openConnection(Proxy.NO_PROXY);
        c.setConnectTimeout(2000);
        c.setReadTimeout(5000);
        assertEquals(200, c.getResponseCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", c.getContentType());
        try (InputStream in = c.getInputStream()) {
            return Exposition.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static Exposition awaitScrape(String what, int port, Predicate<Exposition> cond) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Exposition last = null;
        while (System.nanoTime() - deadline < 0) {
            last = scrape(port);
            if (cond.test(last)) return last;
            Thread.sleep(50);
        }
        fail("not within 20 s: " + what + "; last scrape: " + (last == null ? null : last.samples));
        return null;
    }

    private static double v(Exposition e, String name, String... labels) {
        Double d = e.value(name, labels);
        assertNotNull(d, name + " " + List.of(labels) + " in " + e.samples);
        return d;
    }

    @Test
    void scrapesFollowTheCluster() throws Exception {
        int pa = FreePorts.pair(Set.of());
        int pb = FreePorts.pair(Set.of(pa));
        String peers = "  - {id: a, host: 127.0.0.1, port: " + pa + "}\n  - {id: b, host: 127.0.0.1, port: " + pb + "}\n";
        int ma = freePort();
        int mb = freePort();
        Agent a = start(config("a", peers, "metrics: {listen: \"127.0.0.1:" + ma + "\"}\n"));
        assertEquals(ma, a.metricsPort());

        // a alone: no quorum, no master; b never heard
        Exposition alone = awaitScrape("a runs its loop", ma, e -> e.value("quorumd_term") != null);
        assertEquals("gauge", alone.types.get("quorumd_term"));
        assertEquals("counter", alone.types.get("quorumd_elections_total"), alone.types.toString());
        assertEquals("histogram", alone.types.get("quorumd_fsync_duration_seconds"));
        assertEquals(0, v(alone, "quorumd_role", "role", "master"));
        assertEquals(0, v(alone, "quorumd_master_known"));
        assertTrue(alone.all("quorumd_master").isEmpty(), alone.samples.toString());
        assertEquals(0, v(alone, "quorumd_peer_up", "peer", "b", "state", "never"));
        assertEquals(0, v(alone, "quorumd_lease_remaining_seconds"));
        double termAlone = v(alone, "quorumd_term");

        Agent b = start(config("b", peers, "metrics: {listen: \"127.0.0.1:" + mb + "\"}\n"));
        Exposition elected = awaitScrape("a knows a master", ma, e -> e.value("quorumd_master_known") == 1.0);
        assertTrue(v(elected, "quorumd_term") > termAlone, "the term rose with the election: " + elected.samples);
        assertEquals(1, v(elected, "quorumd_peer_up", "peer", "b", "state", "up"));
        assertTrue(v(elected, "quorumd_peer_last_contact_seconds", "peer", "b") < 1);
        String master = elected.all("quorumd_master").get(0).labels().get("master");
        int mm = master.equals("a") ? ma : mb;
        Exposition onMaster = awaitScrape("the master's lease is seen", mm,
                e -> e.value("quorumd_lease_remaining_seconds") > 0);
        assertEquals(1, v(onMaster, "quorumd_role", "role", "master"));
        assertEquals(0, v(onMaster, "quorumd_role", "role", "follower"));
        assertTrue(v(onMaster, "quorumd_elections_won_total") >= 1);
        assertTrue(v(onMaster, "quorumd_elections_total") >= 1);
        // its vote for itself was fsynced before it campaigned: one durable write at least
        assertTrue(v(onMaster, "quorumd_fsync_duration_seconds_count") >= 1, onMaster.samples.toString());
        // its no-op, the replicated log's first entry of its term, was made durable by the log writer
        Exposition logged = awaitScrape("the master's no-op is on disk", mm,
                e -> e.value("quorumd_log_writes_total") != null && e.value("quorumd_log_writes_total") >= 1);
        assertTrue(v(logged, "quorumd_log_batches_total") >= 1, logged.samples.toString());
        assertTrue(v(logged, "quorumd_log_batches_total") <= v(logged, "quorumd_log_writes_total"));
        assertEquals(0, v(logged, "quorumd_log_write_failures_total"));
        assertEquals(v(onMaster, "quorumd_term"), v(elected, "quorumd_term"));
        assertEquals(0, v(logged, "quorumd_kv_revision"), "an empty store");
        assertEquals(0, v(logged, "quorumd_kv_keys"));
        assertEquals(64 << 20, v(logged, "quorumd_kv_max_bytes"), "kv.max_bytes's default");

        // a write to the store: both nodes' gauges follow what they applied
        io.quorumd.control.Reply put = io.quorumd.control.ControlClient.request(tmp.resolve(master + ".sock"),
                java.util.Map.of("op", "kv.put", "key", "app/leader", "value", "10.0.0.7"), java.time.Duration.ofSeconds(10));
        assertEquals(0, put.exitCode(), put.body());
        for (int port : new int[] {ma, mb}) {
            Exposition kv = awaitScrape("node on port " + port + " applied the put", port,
                    e -> e.value("quorumd_kv_revision") != null && e.value("quorumd_kv_revision") == 1.0);
            assertEquals(1, v(kv, "quorumd_kv_keys"));
            assertEquals("app/leader".length() + "10.0.0.7".length(), v(kv, "quorumd_kv_size_bytes"), "key plus value bytes");
            assertTrue(v(kv, "quorumd_log_applied_index") >= 2, "the no-op and the put: " + kv.samples);
        }

        // b stops: a hears it no more
        b.requestShutdown();
        assertTrue(b.awaitExit(TimeUnit.SECONDS.toNanos(20)));
        awaitScrape("a sees b gone", ma, e -> e.value("quorumd_peer_up", "peer", "b", "state", "up") == null
                && e.all("quorumd_peer_up").stream().allMatch(s -> s.value() == 0));
        // the endpoint ends with its agent
        assertThrows(IOException.class, () -> scrape(mb));
    }

    @Test
    void commandRestartsAndTheProofAreCounted() throws Exception {
        int p = FreePorts.pair(Set.of());
        int m = freePort();
        start(config("solo", "  - {id: solo, host: 127.0.0.1, port: " + p + "}\n",
                "command: {exec: \"sleep 0.1; exit 3\", restart: always, max_restarts: 1000, restart_window: 1m,"
                        + " stop_timeout: 1s}\nmetrics: {listen: \"127.0.0.1:" + m + "\"}\n"));
        Exposition e = awaitScrape("the command was restarted twice", m,
                x -> x.value("quorumd_command_restarts_total") != null && x.value("quorumd_command_restarts_total") >= 2);
        // a fresh one-node cluster: nobody could have run the command before, which is what cleared it
        assertEquals(1, v(e, "quorumd_failovers_total", "proof", "no_master"));
        assertEquals(1, v(e, "quorumd_role", "role", "master"));
        assertEquals(v(e, "quorumd_term"), v(e, "quorumd_command_term"));
        double states = e.all("quorumd_command_state").stream().mapToDouble(Exposition.Sample::value).sum();
        assertEquals(1, states, "exactly one command state is 1: " + e.all("quorumd_command_state"));
        assertEquals(Metrics.COMMAND_STATES.size(), e.all("quorumd_command_state").size());
    }

    @Test
    void droppedFramesByReason() throws Exception {
        LoopCounters loop = new LoopCounters();
        loop.cleared("handover");
        loop.cleared("lease_expiry");
        io.quorumd.core.NodeView view = new io.quorumd.core.NodeView("a", io.quorumd.core.Role.FOLLOWER, 3, null, null,
                -1, false, -1, false, true, List.of());
        try (Metrics metrics = Metrics.start(new Metrics.Sources(() -> view, System::nanoTime, () -> null,
                () -> java.util.Map.of("bad_cluster", 3L, "impostor", 1L), loop,
                () -> new Metrics.SelfFenceState("off", false, 0)), "127.0.0.1", 0)) {
            metrics.fsyncObserver().accept(3_000_000L);   // 3 ms
            Exposition e = scrape(metrics.port());
            assertEquals(3, v(e, "quorumd_dropped_frames_total", "reason", "bad_cluster"));
            assertEquals(1, v(e, "quorumd_dropped_frames_total", "reason", "impostor"));
            assertEquals(1, v(e, "quorumd_failovers_total", "proof", "handover"));
            assertEquals(1, v(e, "quorumd_failovers_total", "proof", "lease_expiry"));
            assertEquals(2, e.all("quorumd_failovers_total").size());
            assertEquals(0, v(e, "quorumd_fsync_duration_seconds_bucket", "le", "0.0025"));
            assertEquals(1, v(e, "quorumd_fsync_duration_seconds_bucket", "le", "0.005"));
            assertTrue(e.all("quorumd_command_state").isEmpty(), "no command, no command state");
        }
    }

    @Test
    void offWithoutListenAndNoHttpThread() throws Exception {
        int p = FreePorts.pair(Set.of());
        long before = httpThreads();
        Agent a = start(config("solo", "  - {id: solo, host: 127.0.0.1, port: " + p + "}\n", ""));
        assertEquals(-1, a.metricsPort());
        assertEquals(before, httpThreads(), "no HTTP server thread without metrics.listen");
    }

    private static long httpThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && (t.getName().startsWith("HTTP-Dispatcher") || t.getName().equals("quorumd-metrics")))
                .count();
    }

    @Test
    void theParserIsStrict() {
        assertThrows(IllegalArgumentException.class, () -> Exposition.parse("quorumd_term 1\n"));   // no TYPE
        assertThrows(IllegalArgumentException.class, () -> Exposition.parse("# TYPE x gauge\nx{a=\"1} 1\n"));
        assertThrows(IllegalArgumentException.class, () -> Exposition.parse("# TYPE x gauge\nx one\n"));
        assertThrows(IllegalArgumentException.class, () -> Exposition.parse("# TYPE x gauge\nx 1"));
        assertThrows(IllegalArgumentException.class, () -> Exposition.parse(
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n"));
        assertEquals(2.5, Exposition.parse("# TYPE x gauge\nx{a=\"q\\\"\"} 2.5\n").value("x", "a", "q\""));
    }
}
