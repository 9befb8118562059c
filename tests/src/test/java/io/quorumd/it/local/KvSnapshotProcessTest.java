package io.quorumd.it.local;

import io.quorumd.control.Json;
import io.quorumd.control.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshots and compaction on three real agents with {@code kv: {snapshot_entries: 20}} (SPEC
 * "Replicated key-value store": the log and periodic snapshots live in state_dir, compaction keeps
 * the disk bounded): 200 writes leave a snapshot and a compacted log on every node; a follower
 * stopped during 200 more writes catches up by installing the master's snapshot (its log line and
 * {@code quorumd_snapshots_installed_total} say so) and serves the latest values; then every agent
 * is killed at once and restarted, and every acknowledged write is there.
 */
@org.junit.jupiter.api.parallel.Isolated
class KvSnapshotProcessTest {
    static final Duration START = Duration.ofSeconds(30);

    @TempDir
    Path tmp;
    LocalCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster == null) return;
        List<String> overlaps;
        try {
            cluster.close();
        } finally {
            overlaps = cluster.observer.overlaps();
        }
        assertTrue(overlaps.isEmpty(), "commands overlapped: " + overlaps + "\n" + cluster.logs());
    }

    /** One kv op on {@code node}: {@link LocalCluster#kv}, exit 3 asked again for up to 10 s. */
    private Reply kv(String node, Object... fields) {
        return cluster.kv(node, fields);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> ok(Reply r, String what) {
        assertEquals(0, r.exitCode(), what + ": " + r.body() + "\n" + cluster.describe());
        return (Map<String, Object>) Json.parse(r.body().strip());
    }

    private String value(String node, String key, boolean stale) {
        Reply r = stale ? kv(node, "op", "kv.get", "key", key, "stale", true) : kv(node, "op", "kv.get", "key", key);
        if (r.exitCode() != 0) return null;
        return String.valueOf(((Map<?, ?>) Json.parse(r.body().strip())).get("value"));
    }

    private void writeAll(String master, String round) {
        for (int i = 1; i <= 200; i++)
            ok(kv(master, "op", "kv.put", "key", "k/" + i, "value", round + "-" + i), "put k/" + i + " " + round);
    }

    private static List<String> files(Path dir, String prefix) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The snapshot files in state_dir, and the log's segments. */
    private String disk(String id) {
        Path state = cluster.member(id).stateDir;
        return id + ": " + files(state, "snapshot-") + " " + files(state.resolve("log"), "segment-");
    }

    private boolean bounded(String id) {
        Path state = cluster.member(id).stateDir;
        List<String> snaps = files(state, "snapshot-");
        List<String> segs = files(state.resolve("log"), "segment-");
        // at most the current snapshot and the one before it, and the log within about two intervals
        return !snaps.isEmpty() && snaps.size() <= 2 && segs.size() <= 3
                && segs.stream().noneMatch(s -> s.equals("segment-00000000000000000001.log"));
    }

    private long metric(String id, String name) throws Exception {
        int port = cluster.member(id).metricsPort;
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + " ")) return (long) Double.parseDouble(line.substring(name.length() + 1).trim());
        }
        throw new AssertionError("no " + name + " in /metrics of " + id + ":\n" + r.body());
    }

    @Test
    void snapshotsBoundTheDiskAFollowerCatchesUpByInstallingOneAndEverythingSurvivesKill9() throws Exception {
        cluster = new LocalCluster(tmp, 3, new LocalCluster.Options().logLevel("info").metrics(true)
                .topYaml("kv: {snapshot_entries: 20}\n"));
        cluster.startAll();
        String master = cluster.awaitMasterRunning(START, null);

        // 200 writes: every node snapshots every 20 entries and compacts its log
        writeAll(master, "one");
        for (String id : cluster.members.keySet())
            LocalCluster.await(() -> bounded(id), Duration.ofSeconds(20), "snapshot and compacted log on " + disk(id));
        assertTrue(metric(master, "quorumd_snapshots_taken_total") >= 5, "snapshots taken on " + master);
        assertTrue(metric(master, "quorumd_snapshot_index") >= 180, "snapshot index on " + master);

        // a follower stopped while 200 more are written: the master's log no longer reaches back to it
        String f = cluster.members.keySet().stream().filter(id -> !id.equals(master)).findFirst().orElseThrow();
        cluster.stop(f, Duration.ofSeconds(30));
        String m2 = cluster.awaitMasterRunning(START, null);
        writeAll(m2, "two");
        cluster.start(f);
        LocalCluster.await(() -> "two-200".equals(value(f, "k/200", true)), Duration.ofSeconds(30),
                "the restarted follower " + f + " catching up");
        String log = Files.readString(cluster.log(f));
        assertTrue(log.contains("installed the snapshot at index"), "caught up by a snapshot:\n" + log);
        assertTrue(metric(f, "quorumd_snapshots_installed_total") >= 1, "installed on " + f);
        for (int i = 1; i <= 200; i += 13)
            assertEquals(value(m2, "k/" + i, false), value(f, "k/" + i, true), "stale read of k/" + i + " on " + f);
        assertEquals("two-1", value(f, "k/1", true));
        LocalCluster.await(() -> bounded(f), Duration.ofSeconds(20), "a bounded disk on " + disk(f));

        // every agent killed at once and restarted: every acknowledged write is there
        for (String id : cluster.members.keySet()) cluster.kill9(id);
        cluster.startAll();
        String m3 = cluster.awaitMasterRunning(START, null);
        for (int i = 1; i <= 200; i++) assertEquals("two-" + i, value(m3, "k/" + i, false), "k/" + i + " on " + m3);
        for (String id : cluster.members.keySet()) {
            for (int i = 1; i <= 200; i += 7) assertEquals("two-" + i, value(id, "k/" + i, false), "k/" + i + " via " + id);
            LocalCluster.await(() -> "two-200".equals(value(id, "k/200", true)), Duration.ofSeconds(20), "stale k/200 on " + id);
        }
        Map<String, Object> list = ok(kv(m3, "op", "kv.list", "prefix", "k/"), "list");
        assertEquals(200, ((List<?>) list.get("keys")).size());
        assertEquals(400L, list.get("rev"), list.toString());
    }
}
