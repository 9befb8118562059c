package io.quorumd.it.local;

import io.quorumd.control.Json;
import io.quorumd.control.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replicated store on three real agents (SPEC "Replicated key-value store"), through their
 * control sockets' {@code kv.*} ops and the {@code quorumd kv} command line: writes on the master
 * and through a follower (forwarded), reads from a follower (forwarded, linearizable), delete,
 * compare failed and fenced (exit 4), kill -9 of the master with the value read back from the new
 * one, and a restart of every agent after which every acknowledged write is still there.
 */
@org.junit.jupiter.api.parallel.Isolated
class KvProcessTest {
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
    private static Map<String, Object> ok(Reply r, String what) {
        assertEquals(0, r.exitCode(), what + ": " + r.body());
        return (Map<String, Object>) Json.parse(r.body().strip());
    }

    private void assertFails(int exit, String contains, Reply r, String what) {
        assertEquals(exit, r.exitCode(), what + ": " + r.body() + "\n" + cluster.describe());
        assertTrue(r.body().contains(contains), what + ": expected '" + contains + "' in " + r.body());
    }

    private String follower(String master) {
        for (String id : cluster.members.keySet()) if (!id.equals(master) && cluster.member(id).alive()) return id;
        throw new AssertionError("no follower alive");
    }

    /** {@code quorumd kv ARGS -c CONFIG-of-node}: exit status and stdout + stderr. */
    private String[] cli(String node, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(LocalCluster.LAUNCHER.toAbsolutePath().toString(), "kv"));
        argv.addAll(List.of(args));
        argv.addAll(List.of("-c", cluster.member(node).config.toString()));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().remove("QUORUMD_TERM");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "quorumd kv " + String.join(" ", args) + " ended");
        return new String[] {Integer.toString(p.exitValue()), out};
    }

    @Test
    void writesAndReadsThroughTheMasterSurviveItsLossAndARestartOfEveryAgent() throws Exception {
        cluster = new LocalCluster(tmp, 3, new LocalCluster.Options().logLevel("info"));
        cluster.startAll();
        String master = cluster.awaitMasterRunning(START, null);
        String f = follower(master);
        long term = LocalCluster.term(cluster.status(master));

        // a write on the master, read back from a follower (forwarded to the master: linearizable)
        assertEquals(1L, ok(kv(master, "op", "kv.put", "id", 1L, "key", "app/a", "value", "one"), "put on master").get("rev"));
        Map<String, Object> got = ok(kv(f, "op", "kv.get", "key", "app/a"), "get from follower");
        assertEquals("one", got.get("value"));
        assertEquals(1L, got.get("create_rev"));
        assertEquals(1L, got.get("mod_rev"));
        assertEquals(1L, got.get("rev"));

        // a write through a follower, with the master's term as fence, and a binary value
        assertEquals(2L, ok(kv(f, "op", "kv.put", "key", "app/b", "value_base64", "AP8=", "term", term),
                "fenced put through a follower").get("rev"));
        assertEquals("AP8=", ok(kv(master, "op", "kv.get", "key", "app/b"), "binary get").get("value_base64"));

        // compare failed and fenced: exit 4 and nothing written
        assertFails(4, "compare failed", kv(f, "op", "kv.put", "key", "app/a", "value", "x", "rev", 0L), "create-only put");
        assertFails(4, "compare failed", kv(master, "op", "kv.put", "key", "app/a", "value", "x", "rev", 7L), "put at rev 7");
        assertFails(4, "fenced", kv(master, "op", "kv.put", "key", "app/a", "value", "x", "term", term + 1000), "newer term");
        assertFails(4, "fenced", kv(f, "op", "kv.delete", "key", "app/a", "term", term - 1), "old term");
        assertEquals(3L, ok(kv(master, "op", "kv.put", "key", "app/a", "value", "two", "rev", 1L), "put at rev 1").get("rev"));

        // delete through a follower; then it is gone everywhere
        assertEquals(4L, ok(kv(f, "op", "kv.delete", "key", "app/b"), "delete").get("rev"));
        assertFails(4, "key not found: app/b", kv(master, "op", "kv.get", "key", "app/b"), "get after delete");
        assertFails(4, "not found", kv(f, "op", "kv.delete", "key", "app/b"), "delete again");
        Map<String, Object> list = ok(kv(f, "op", "kv.list", "prefix", "app/"), "list");
        assertEquals(4L, list.get("rev"));
        assertEquals(1, ((List<?>) list.get("keys")).size(), list.toString());
        // the follower's own copy catches up (stale read)
        LocalCluster.await(() -> "two".equals(staleValue(f, "app/a")), Duration.ofSeconds(5), "the follower's copy");

        // the command line: exit statuses and output as SPEC says
        String[] put = cli(f, "put", "cli/x", "hello");
        assertEquals("0", put[0], put[1]);
        assertEquals("5", put[1].strip());
        String[] get = cli(master, "get", "cli/x");
        assertEquals("0", get[0], get[1]);
        assertEquals("hello", get[1]);
        String[] missing = cli(f, "get", "cli/nothing");
        assertEquals("4", missing[0], missing[1]);
        String[] stale = cli(f, "put", "cli/x", "again", "--rev", "1");
        assertEquals("4", stale[0], stale[1]);

        // kill -9 of the master: the new master has every acknowledged write
        cluster.kill9(master);
        String second = cluster.awaitMasterRunning(START, master);
        assertEquals("two", ok(kv(second, "op", "kv.get", "key", "app/a"), "get from the new master").get("value"));
        assertEquals("hello", ok(kv(follower(second), "op", "kv.get", "key", "cli/x"), "get via the new master").get("value"));
        assertEquals(6L, ok(kv(second, "op", "kv.put", "key", "app/c", "value", "three"), "put on the new master").get("rev"));
        assertFails(4, "fenced", kv(second, "op", "kv.put", "key", "app/a", "value", "x", "term", term),
                "the deposed master's term");

        // every agent killed and restarted: the acknowledged writes are all there
        cluster.start(master);
        for (String id : cluster.members.keySet()) cluster.kill9(id);
        cluster.startAll();
        String third = cluster.awaitMasterRunning(START, null);
        for (String id : cluster.members.keySet()) {
            assertEquals("two", ok(kv(id, "op", "kv.get", "key", "app/a"), "app/a on " + id).get("value"));
            assertEquals("three", ok(kv(id, "op", "kv.get", "key", "app/c"), "app/c on " + id).get("value"));
            assertFails(4, "key not found", kv(id, "op", "kv.get", "key", "app/b"), "app/b on " + id);
        }
        Map<String, Object> after = ok(kv(third, "op", "kv.list"), "list after the restart");
        assertEquals(6L, after.get("rev"), after.toString());
        assertEquals(3, ((List<?>) after.get("keys")).size(), after.toString());
    }

    private String staleValue(String node, String key) {
        Reply r = kv(node, "op", "kv.get", "key", key, "stale", true);
        if (r.exitCode() != 0) return null;
        return String.valueOf(((Map<?, ?>) Json.parse(r.body().strip())).get("value"));
    }
}
