package io.quorumd.control;

import io.quorumd.kv.Change;
import io.quorumd.kv.KeyValue;
import io.quorumd.kv.KvLimits;
import io.quorumd.kv.KvResult;
import io.quorumd.kv.Selector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control socket's {@code kv.*} ops on a real server and socket: the fields each op takes, the
 * answers as one JSON line (the result an object), a 32 KiB value in one request, and a watch's
 * stream (its lines, the client's close, the bound on what a slow client leaves unread).
 */
class ControlKvTest {
    static final Duration T = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    private ControlServer server;

    /** The agent's side: records each request and answers what the test set. */
    static final class Agent implements ControlHandler {
        final LinkedBlockingQueue<KvRequest> requests = new LinkedBlockingQueue<>();
        volatile Reply answer = Reply.ok("{\"rev\":1}");
        final LinkedBlockingQueue<WatchStream> watches = new LinkedBlockingQueue<>();

        @Override
        public Status status() {
            return StatusTest.master();
        }

        @Override
        public CompletionStage<Reply> stepDown(String to) {
            return CompletableFuture.completedFuture(Reply.ok(""));
        }

        @Override
        public CompletionStage<Reply> kv(KvRequest request) {
            requests.add(request);
            return CompletableFuture.completedFuture(answer);
        }

        @Override
        public void kvWatch(KvRequest.Watch request, WatchStream stream) {
            requests.add(request);
            watches.add(stream);
        }
    }

    private final Agent agent = new Agent();

    @AfterEach
    void tearDown() {
        if (server != null) server.close();
    }

    private Path sock() {
        return dir.resolve("control.sock");
    }

    private void start() throws Exception {
        server = ControlServer.start(sock(), "no-such-group-for-quorumd-tests", T, agent);
    }

    private String raw(String line) throws Exception {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(sock()));
            ByteBuffer out = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) c.write(out);
            return new String(Channels.newInputStream(c).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(String line) {
        assertTrue(line.endsWith("}\n") && line.indexOf('\n') == line.length() - 1, "one JSON line: " + line);
        return (Map<String, Object>) Json.parse(line);
    }

    @Test
    void eachOpTakesItsFieldsAndAnswersWithAnObject() throws Exception {
        start();
        agent.answer = Reply.ok("{\"key\":\"a\",\"value\":\"1\",\"create_rev\":1,\"mod_rev\":1,\"rev\":3}");
        assertEquals("{\"id\":5,\"exit\":0,\"result\":{\"key\":\"a\",\"value\":\"1\",\"create_rev\":1,\"mod_rev\":1,\"rev\":3}}\n",
                raw("{\"op\":\"kv.get\",\"id\":5,\"key\":\"a\"}"));
        assertEquals(new KvRequest.Get("a", false), agent.requests.poll());
        raw("{\"op\":\"kv.get\",\"key\":\"a\",\"stale\":true}");
        assertEquals(new KvRequest.Get("a", true), agent.requests.poll());
        raw("{\"op\":\"kv.list\",\"prefix\":\"app/\"}");
        assertEquals(new KvRequest.List("app/", false), agent.requests.poll());
        raw("{\"op\":\"kv.list\"}");
        assertEquals(new KvRequest.List("", false), agent.requests.poll());

        agent.answer = Reply.ok("{\"rev\":4}");
        assertEquals("{\"exit\":0,\"result\":{\"rev\":4}}\n", raw("{\"op\":\"kv.put\",\"key\":\"k\",\"value\":\"v\",\"rev\":0,\"term\":7}"));
        KvRequest.Put p = assertInstanceOf(KvRequest.Put.class, agent.requests.poll());
        assertEquals("k", p.key());
        assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), p.value());
        assertEquals(0, p.rev());
        assertEquals(7, p.term());
        raw("{\"op\":\"kv.put\",\"key\":\"k\",\"value_base64\":\"AP8=\"}");
        p = assertInstanceOf(KvRequest.Put.class, agent.requests.poll());
        assertArrayEquals(new byte[] {0, (byte) 0xff}, p.value());
        assertEquals(-1, p.rev(), "no compare");
        assertEquals(-1, p.term(), "no fence");
        raw("{\"op\":\"kv.delete\",\"key\":\"k\",\"rev\":3}");
        assertEquals(new KvRequest.Delete("k", 3, -1), agent.requests.poll());

        agent.answer = Reply.error(KvOps.NOT_FOUND, "key not found: zz");
        assertEquals("{\"id\":\"x\",\"exit\":4,\"error\":\"key not found: zz\"}\n",
                raw("{\"op\":\"kv.get\",\"id\":\"x\",\"key\":\"zz\"}"));
    }

    @Test
    void badFieldsAreRefusedBeforeTheAgentSeesThem() throws Exception {
        start();
        String[][] cases = {
                {"{\"op\":\"kv.get\"}", "needs \"key\""},
                {"{\"op\":\"kv.get\",\"key\":\"\"}", "the key is empty"},
                {"{\"op\":\"kv.get\",\"key\":\"" + "k".repeat(513) + "\"}", "the limit is 512"},
                {"{\"op\":\"kv.get\",\"key\":\"a\",\"stale\":1}", "\"stale\" must be true or false"},
                {"{\"op\":\"kv.get\",\"key\":\"a\",\"value\":\"x\"}", "takes no field 'value'"},
                {"{\"op\":\"kv.put\",\"key\":\"a\"}", "exactly one of \"value\""},
                {"{\"op\":\"kv.put\",\"key\":\"a\",\"value\":\"x\",\"value_base64\":\"eA==\"}", "exactly one of \"value\""},
                {"{\"op\":\"kv.put\",\"key\":\"a\",\"value_base64\":\"***\"}", "is not base64"},
                {"{\"op\":\"kv.put\",\"key\":\"a\",\"value\":\"x\",\"rev\":-1}", "\"rev\" must be an integer >= 0"},
                {"{\"op\":\"kv.put\",\"key\":\"a\",\"value\":\"x\",\"term\":\"7\"}", "\"term\" must be an integer >= 0"},
                {"{\"op\":\"kv.delete\",\"key\":5}", "needs \"key\""},
                {"{\"op\":\"kv.list\",\"prefix\":[]}", "\"prefix\" must be a string"},
                {"{\"op\":\"kv.watch\"}", "exactly one of \"key\" and \"prefix\""},
                {"{\"op\":\"kv.watch\",\"key\":\"a\",\"prefix\":\"b\"}", "exactly one of \"key\" and \"prefix\""},
                {"{\"op\":\"kv.watch\",\"key\":\"a\",\"from\":0}", "\"from\" must be a revision >= 1"},
        };
        for (String[] c : cases) {
            Map<String, Object> a = object(raw(c[0]));
            assertEquals(2L, a.get("exit"), c[0] + " -> " + a);
            assertTrue(String.valueOf(a.get("error")).contains(c[1]), c[0] + " -> " + a);
        }
        assertTrue(agent.requests.isEmpty(), "no bad request reached the agent: " + agent.requests);
    }

    @Test
    void aValueAtTheLimitFitsInOneRequestAndOneByteMoreIsRefused() throws Exception {
        start();
        byte[] value = new byte[KvLimits.MAX_VALUE_BYTES];
        for (int i = 0; i < value.length; i++) value[i] = (byte) (i * 31);
        String key = "\"" + "\\u0001".repeat(KvLimits.MAX_KEY_BYTES) + "\"";
        String line = "{\"op\":\"kv.put\",\"id\":1,\"key\":" + key + ",\"value_base64\":\""
                + Base64.getEncoder().encodeToString(value) + "\",\"rev\":123456789,\"term\":987654321}";
        assertTrue(line.length() < ControlServer.MAX_REQUEST_BYTES, line.length() + " bytes");
        assertEquals(0L, object(raw(line)).get("exit"));
        assertArrayEquals(value, assertInstanceOf(KvRequest.Put.class, agent.requests.poll()).value());
        Map<String, Object> a = object(raw("{\"op\":\"kv.put\",\"key\":\"k\",\"value_base64\":\""
                + Base64.getEncoder().encodeToString(new byte[KvLimits.MAX_VALUE_BYTES + 1]) + "\"}"));
        assertEquals(2L, a.get("exit"));
        assertTrue(String.valueOf(a.get("error")).contains("32 KiB"), a.toString());
    }

    @Test
    void aWatchStreamsLinesUntilTheClientCloses() throws Exception {
        start();
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        {
            c.connect(UnixDomainSocketAddress.of(sock()));
            c.write(ByteBuffer.wrap("{\"op\":\"kv.watch\",\"id\":9,\"prefix\":\"app/\",\"from\":3}\n".getBytes(StandardCharsets.UTF_8)));
            WatchStream s = agent.watches.poll(5, TimeUnit.SECONDS);
            assertNotNull(s);
            assertEquals(new KvRequest.Watch(Selector.prefix("app/"), 3), agent.requests.poll());
            assertEquals("9", s.id());
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
            assertTrue(s.send(KvOps.watching(s.id(), 7)));
            assertTrue(s.send(KvOps.event(s.id(), new Change(8, "app/a", Change.Type.PUT, new byte[] {(byte) 0xff}))));
            assertTrue(s.send(KvOps.event(s.id(), new Change(9, "app/a", Change.Type.DELETE, null))));
            assertEquals("{\"id\":9,\"watching\":true,\"rev\":7}", in.readLine());
            assertEquals("{\"id\":9,\"event\":{\"rev\":8,\"type\":\"put\",\"key\":\"app/a\",\"value_base64\":\"/w==\"}}", in.readLine());
            assertEquals("{\"id\":9,\"event\":{\"rev\":9,\"type\":\"delete\",\"key\":\"app/a\"}}", in.readLine());
            assertTrue(s.open());
            c.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (s.open() && System.nanoTime() < deadline) {
                s.send(KvOps.watching(s.id(), 7));
                Thread.sleep(10);
            }
            assertFalse(s.open(), "the watch ends once the client has gone");
        }
        assertEquals(0L, object(raw("{\"op\":\"ping\"}")).get("exit"), "still serving");
    }

    @Test
    void theClientsWatchHandsOverEachEventAndEndsWithTheAgentsAnswer() throws Exception {
        start();
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<Reply> end = CompletableFuture.supplyAsync(() -> ControlClient.watch(sock(),
                Map.of("op", "kv.watch", "key", "a", "from", 2L), T, events::add));
        WatchStream s = agent.watches.poll(5, TimeUnit.SECONDS);
        assertNotNull(s);
        assertEquals(new KvRequest.Watch(Selector.key("a"), 2), agent.requests.poll());
        s.send(KvOps.watching(s.id(), 5));
        s.send(KvOps.event(s.id(), new Change(2, "a", Change.Type.PUT, "x".getBytes(StandardCharsets.UTF_8))));
        s.end("{\"exit\":4,\"error\":\"revision 3 is compacted; the oldest available is 4\"}\n");
        Reply r = end.get(5, TimeUnit.SECONDS);
        assertEquals(new Reply(4, "revision 3 is compacted; the oldest available is 4"), r);
        assertEquals(List.of("{\"rev\":2,\"type\":\"put\",\"key\":\"a\",\"value\":\"x\"}"), events);
    }

    @Test
    void aWatcherThatDoesNotReadIsDroppedWithAnErrorLine() throws Exception {
        start();
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(sock()));
            c.write(ByteBuffer.wrap("{\"op\":\"kv.watch\",\"key\":\"a\"}\n".getBytes(StandardCharsets.UTF_8)));
            WatchStream s = agent.watches.poll(5, TimeUnit.SECONDS);
            assertNotNull(s);
            String line = KvOps.event(null, new Change(1, "a", Change.Type.PUT, new byte[1000]));
            long sent = 0;
            while (s.send(line)) {
                sent += line.length();
                assertTrue(sent < 64L << 20, "the bound holds");
            }
            assertFalse(s.open());
            List<String> lines = new ArrayList<>();
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
            String l;
            while ((l = in.readLine()) != null) lines.add(l);
            String last = lines.get(lines.size() - 1);
            assertTrue(last.contains("\"exit\":1") && last.contains("watch dropped"), last);
        }
    }

    @Test
    void answersAsSpecSaysThem() {
        assertEquals(Reply.ok("{\"rev\":5}"), KvOps.writeResult(new KvResult.Written(5, true)));
        assertEquals(Reply.error(4, "key not found: a"), KvOps.writeResult(new KvResult.NotFound("a")));
        Reply cmp = KvOps.writeResult(new KvResult.CompareFailed("a", 0, 3));
        assertEquals(4, cmp.exitCode());
        assertTrue(cmp.body().contains("compare failed") && cmp.body().contains("3"), cmp.body());
        Reply fenced = KvOps.writeResult(new KvResult.Fenced(2, 5));
        assertEquals(4, fenced.exitCode());
        assertTrue(fenced.body().contains("fenced") && fenced.body().contains("2") && fenced.body().contains("5"), fenced.body());
        Reply refused = KvOps.writeResult(new KvResult.Refused(KvResult.Limit.STORE_SIZE, "the store is full: kv.max_bytes"));
        assertEquals(Reply.error(2, "the store is full: kv.max_bytes"), refused);
        assertEquals(Reply.error(1, "outcome unknown: no longer master"), KvOps.failed(true, "no longer master"));
        assertEquals(Reply.error(1, "outcome unknown: x"), KvOps.failed(true, "outcome unknown: x"));
        assertEquals(Reply.error(3, "no majority"), KvOps.failed(false, "no majority"));
        assertEquals(Reply.error(4, "key not found: b"), KvOps.get("b", Optional.empty(), 9));
        assertEquals(Reply.ok("{\"key\":\"b\",\"value_base64\":\"gA==\",\"create_rev\":2,\"mod_rev\":3,\"rev\":9}"),
                KvOps.get("b", Optional.of(new KeyValue("b", new byte[] {(byte) 0x80}, 2, 3)), 9));
        assertEquals(Reply.ok("{\"rev\":9,\"keys\":[{\"key\":\"b\",\"create_rev\":2,\"mod_rev\":3}]}"),
                KvOps.list(List.of(new KeyValue("b", "x".getBytes(StandardCharsets.UTF_8), 2, 3)), 9));
        assertNull(KvOps.utf8(new byte[] {(byte) 0xc3}));
    }

    @Test
    void forwardedRequestsKeepTheirMeaning() {
        assertEquals(new KvRequest.Get("app/é", false), KvRequest.readOf(KvRequest.forwardPayload(new KvRequest.Get("app/é", true))));
        assertEquals(new KvRequest.List("", false), KvRequest.readOf(KvRequest.forwardPayload(new KvRequest.List("", false))));
        KvRequest.Put p = new KvRequest.Put("k", new byte[] {1}, 0, 7);
        assertArrayEquals(KvRequest.command(p), KvRequest.forwardPayload(p));
        assertArrayEquals(KvRequest.command(p), KvRequest.command(new KvRequest.Raw(KvRequest.command(p))));
    }
}
