package io.quorumd;

import io.quorumd.control.Json;
import io.quorumd.control.KvRequest;
import io.quorumd.control.Reply;
import io.quorumd.control.WatchStream;
import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.Message;
import io.quorumd.core.NodeView;
import io.quorumd.core.Role;
import io.quorumd.kv.KvLimits;
import io.quorumd.kv.KvMachine;
import io.quorumd.kv.Selector;
import io.quorumd.log.LogEntry;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store's side of the agent with a real {@link KvMachine}, the core's part played by the test
 * (it answers what was fed with the effects the core would emit): answers to the control socket,
 * forwarding one request at a time with "outcome unknown" for a lost write, the master's side of a
 * forward, and watches.
 */
class KvAgentTest {
    static final long T = 1_000_000_000L;

    /** The loop as the test sees it: what was fed to the core, requested and answered. */
    static final class FakeLoop implements KvAgent.Loop {
        NodeView view = view(Role.MASTER, "a");
        final List<Event> fed = new ArrayList<>();
        final List<Object[]> requests = new ArrayList<>();
        final List<Object[]> responses = new ArrayList<>();

        static NodeView view(Role role, String master) {
            return new NodeView("a", role, 3, null, master, -1, false, -1, false, false, List.of());
        }

        @Override public void feed(Event e) { fed.add(e); }
        @Override public NodeView view() { return view; }
        @Override public long term() { return 3; }
        @Override public void request(String to, Message m, long timeoutNanos) { requests.add(new Object[] {to, m, timeoutNanos}); }
        @Override public void respond(String to, Message m) { responses.add(new Object[] {to, m}); }
    }

    private final FakeLoop loop = new FakeLoop();
    private KvAgent kv = new KvAgent("a", 42, new KvMachine(KvLimits.defaults()), T, loop, () -> { });

    private static Reply now(CompletionStage<Reply> s) throws Exception {
        return s.toCompletableFuture().get(1, TimeUnit.SECONDS);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Event.ClientWrite lastWrite() {
        return assertInstanceOf(Event.ClientWrite.class, loop.fed.get(loop.fed.size() - 1));
    }

    private long index = 1;

    /** The core commits and applies {@code w}'s entry (of term 3). */
    private void commit(Event.ClientWrite w) {
        kv.onApply(new Effect.Apply(new LogEntry(++index, 3, w.payload()), w.requestId()));
    }

    @Test
    void onTheMasterTheCoreAnswersEveryRequest() throws Exception {
        kv.onApply(new Effect.Apply(new LogEntry(1, 3, new byte[0]), 0));   // the master's no-op
        CompletionStage<Reply> put = kv.submit(new KvRequest.Put("k", utf8("v"), -1, -1));
        kv.runTasks();
        commit(lastWrite());
        assertEquals(Reply.ok("{\"rev\":1}"), now(put));

        CompletionStage<Reply> create = kv.submit(new KvRequest.Put("k", utf8("w"), 0, -1));
        kv.runTasks();
        commit(lastWrite());
        Reply cmp = now(create);
        assertEquals(4, cmp.exitCode());
        assertTrue(cmp.body().contains("compare failed"), cmp.body());

        CompletionStage<Reply> fenced = kv.submit(new KvRequest.Delete("k", -1, 2));
        kv.runTasks();
        commit(lastWrite());
        assertTrue(now(fenced).body().contains("fenced: the write carries term 2 but the master's term is 3"));

        CompletionStage<Reply> get = kv.submit(new KvRequest.Get("k", false));
        kv.runTasks();
        Event.ClientRead read = assertInstanceOf(Event.ClientRead.class, loop.fed.get(loop.fed.size() - 1));
        assertFalse(get.toCompletableFuture().isDone(), "a linearizable read waits for the core");
        kv.onReadReady(new Effect.ReadReady(read.requestId()));
        assertEquals(Reply.ok("{\"key\":\"k\",\"value\":\"v\",\"create_rev\":1,\"mod_rev\":1,\"rev\":1}"), now(get));

        int fedBefore = loop.fed.size();
        assertEquals(0, now(runNow(kv.submit(new KvRequest.List("", true)))).exitCode());
        assertEquals(fedBefore, loop.fed.size(), "a stale read does not go to the core");

        CompletionStage<Reply> lost = kv.submit(new KvRequest.Put("x", utf8("1"), -1, -1));
        kv.runTasks();
        kv.onClientFailed(new Effect.ClientFailed(lastWrite().requestId(), true, null, "outcome unknown: no longer master before it committed"));
        assertEquals(Reply.error(1, "outcome unknown: no longer master before it committed"), now(lost));
        CompletionStage<Reply> noMajority = kv.submit(new KvRequest.Get("x", false));
        kv.runTasks();
        long id = ((Event.ClientRead) loop.fed.get(loop.fed.size() - 1)).requestId();
        kv.onClientFailed(new Effect.ClientFailed(id, false, null, "no majority confirmed this master within 1000 ms"));
        assertEquals(Reply.error(3, "quorumd: no majority confirmed this master within 1000 ms"), now(noMajority));
    }

    private CompletionStage<Reply> runNow(CompletionStage<Reply> s) {
        kv.runTasks();
        return s;
    }

    @Test
    void aFollowerForwardsOneRequestAtATimeAndNeverCallsALostWriteFailed() throws Exception {
        loop.view = FakeLoop.view(Role.FOLLOWER, "b");
        CompletionStage<Reply> first = kv.submit(new KvRequest.Put("k", utf8("1"), -1, 3));
        CompletionStage<Reply> second = kv.submit(new KvRequest.Put("k", utf8("2"), -1, -1));
        CompletionStage<Reply> third = kv.submit(new KvRequest.Get("k", false));
        kv.runTasks();
        assertTrue(loop.fed.isEmpty(), "a follower's core sees no client request");
        assertEquals(1, loop.requests.size(), "one forward at a time");
        Message.Forward f1 = assertInstanceOf(Message.Forward.class, loop.requests.get(0)[1]);
        assertEquals("b", loop.requests.get(0)[0]);
        assertTrue(f1.write());
        assertTrue((f1.requestId() & KvAgent.FORWARD_BIT) != 0);

        // its answer never came: the write may have committed
        assertTrue(kv.intercept(new Event.RequestFailed("b", f1.requestId(), "no reply from b within 1500 ms")));
        Reply r1 = now(first);
        assertEquals(1, r1.exitCode());
        assertTrue(r1.body().startsWith("outcome unknown"), r1.body());

        Message.Forward f2 = assertInstanceOf(Message.Forward.class, loop.requests.get(1)[1]);
        assertTrue(kv.intercept(new Event.Received(new Message.ForwardReply("b", 3, 9, f2.requestId(), 0, utf8("{\"rev\":7}")))));
        assertEquals(new Reply(0, "{\"rev\":7}"), now(second));
        assertTrue(kv.intercept(new Event.Received(new Message.ForwardReply("b", 3, 9, f2.requestId(), 0, utf8("late")))),
                "a late answer is still this part's (never the core's), and dropped");

        // a read that is lost surely changed nothing: exit 3
        Message.Forward f3 = assertInstanceOf(Message.Forward.class, loop.requests.get(2)[1]);
        assertFalse(f3.write());
        kv.intercept(new Event.RequestFailed("b", f3.requestId(), "no reply from b within 1500 ms"));
        assertEquals(3, now(third).exitCode());

        // requests waiting behind a forward fail at their deadline, never sent
        CompletionStage<Reply> inFlight = kv.submit(new KvRequest.Put("k", utf8("3"), -1, -1));
        CompletionStage<Reply> waiting = kv.submit(new KvRequest.Put("k", utf8("4"), -1, -1));
        kv.runTasks();
        int sent = loop.requests.size();
        kv.sweep(System.nanoTime() + 2 * T);
        Reply w = now(waiting);
        assertEquals(3, w.exitCode(), w.body());
        assertTrue(w.body().contains("was not sent"), w.body());
        assertFalse(inFlight.toCompletableFuture().isDone());
        assertEquals(sent, loop.requests.size());

        loop.view = FakeLoop.view(Role.CANDIDATE, null);
        Reply none = now(runNow(kv.submit(new KvRequest.Get("k", false))));
        assertEquals(3, none.exitCode());
        assertTrue(none.body().contains("no master is known"), none.body());
    }

    @Test
    void theMasterAnswersAForwardWithTheOutcome() {
        byte[] put = KvRequest.command(new KvRequest.Put("k", utf8("v"), -1, -1));
        assertTrue(kv.intercept(new Event.Received(new Message.Forward("b", 3, 9, KvAgent.FORWARD_BIT | 5, true, put))));
        Event.ClientWrite w = lastWrite();
        commit(w);
        Message.ForwardReply r = assertInstanceOf(Message.ForwardReply.class, loop.responses.get(0)[1]);
        assertEquals("b", loop.responses.get(0)[0]);
        assertEquals(KvAgent.FORWARD_BIT | 5, r.requestId());
        assertEquals(0, r.exit());
        assertEquals("{\"rev\":1}\n", new String(r.body(), StandardCharsets.UTF_8));

        byte[] get = KvRequest.forwardPayload(new KvRequest.Get("k", false));
        kv.intercept(new Event.Received(new Message.Forward("b", 3, 9, KvAgent.FORWARD_BIT | 6, false, get)));
        kv.onReadReady(new Effect.ReadReady(((Event.ClientRead) loop.fed.get(loop.fed.size() - 1)).requestId()));
        Message.ForwardReply g = (Message.ForwardReply) loop.responses.get(1)[1];
        assertEquals(0, g.exit());
        assertEquals("v", ((Map<?, ?>) Json.parse(new String(g.body(), StandardCharsets.UTF_8))).get("value"));

        kv.intercept(new Event.Received(new Message.Forward("b", 3, 9, KvAgent.FORWARD_BIT | 7, true, put)));
        kv.onClientFailed(new Effect.ClientFailed(lastWrite().requestId(), true, null, "term 3 ended"));
        Message.ForwardReply u = (Message.ForwardReply) loop.responses.get(2)[1];
        assertEquals(1, u.exit());
        assertTrue(new String(u.body(), StandardCharsets.UTF_8).startsWith("outcome unknown"));
    }

    /** A watch as the control socket gives it: the lines it got. */
    static final class Lines implements WatchStream {
        final List<String> lines = new ArrayList<>();
        boolean open = true;

        @Override public String id() { return "1"; }
        @Override public boolean send(String line) { lines.add(line); return open; }
        @Override public void end(String line) { lines.add(line); open = false; }
        @Override public boolean open() { return open; }
    }

    private void put(String key, String value) {
        kv.submit(new KvRequest.Put(key, utf8(value), -1, -1));
        kv.runTasks();
        commit(lastWrite());
    }

    @Test
    void aWatchReportsTheHistoryAskedForThenEachCommittedChange() {
        put("app/a", "1");
        put("other", "x");
        put("app/b", "2");
        Lines s = new Lines();
        kv.watch(new KvRequest.Watch(Selector.prefix("app/"), 2), s);
        kv.runTasks();
        assertEquals(List.of("{\"id\":1,\"watching\":true,\"rev\":3}\n",
                "{\"id\":1,\"event\":{\"rev\":3,\"type\":\"put\",\"key\":\"app/b\",\"value\":\"2\"}}\n"), s.lines);
        kv.submit(new KvRequest.Delete("app/a", -1, -1));
        kv.runTasks();
        commit(lastWrite());
        put("other", "y");
        assertEquals("{\"id\":1,\"event\":{\"rev\":4,\"type\":\"delete\",\"key\":\"app/a\"}}\n", s.lines.get(2));
        assertEquals(3, s.lines.size(), "other keys are not reported");

        Lines fromNow = new Lines();
        kv.watch(new KvRequest.Watch(Selector.key("app/b"), 0), fromNow);
        kv.runTasks();
        put("app/b", "3");
        assertEquals(2, fromNow.lines.size(), fromNow.lines.toString());
        assertTrue(fromNow.lines.get(1).contains("\"rev\":6"), fromNow.lines.toString());
    }

    @Test
    void aCompactedRevisionEndsTheWatchWithExit4() {
        kv = new KvAgent("a", 42, new KvMachine(new KvLimits(KvLimits.DEFAULT_MAX_BYTES, 1, 1 << 20)), T, loop, () -> { });
        put("a", "1");
        put("a", "2");
        put("a", "3");
        Lines s = new Lines();
        kv.watch(new KvRequest.Watch(Selector.key("a"), 1), s);
        kv.runTasks();
        assertEquals(List.of("{\"id\":1,\"exit\":4,\"error\":\"revision 1 is compacted; the oldest available is 3\"}\n"), s.lines);
        assertFalse(s.open());
    }

    /** The master's store after {@code n} puts of key "a" (values 1..n) at indices 2..n+1. */
    private static KvMachine masterStore(KvLimits limits, int n) {
        KvMachine m = new KvMachine(limits);
        for (int i = 1; i <= n; i++) m.apply(i + 1, 3, io.quorumd.kv.KvCommand.put("a", Integer.toString(i)));
        return m;
    }

    @Test
    void afterASnapshotFromTheMasterAWatchGetsWhatItMissedOrTheCompactedError() throws Exception {
        put("a", "1");
        Lines s = new Lines();
        kv.watch(new KvRequest.Watch(Selector.key("a"), 0), s);   // from revision 2 on
        kv.runTasks();
        Lines ahead = new Lines();
        kv.watch(new KvRequest.Watch(Selector.key("a"), 0), ahead);
        kv.runTasks();
        // the master's snapshot up to revision 4: its history still holds 2..4
        kv.restore(KvMachine.restore(masterStore(KvLimits.defaults(), 4).snapshot(), KvLimits.defaults()));
        assertEquals(4, s.lines.size(), s.lines.toString());
        assertTrue(s.lines.get(1).contains("\"rev\":2") && s.lines.get(3).contains("\"rev\":4"), s.lines.toString());
        assertTrue(s.open());
        assertEquals(4, kv.figures().revision());
        assertEquals("4", new String(kv.machine().get("a").orElseThrow().value(), StandardCharsets.UTF_8));
        // the next write applied after the snapshot is reported once
        kv.onApply(new Effect.Apply(new LogEntry(6, 3, io.quorumd.kv.KvCommandCodec.encode(
                io.quorumd.kv.KvCommand.put("a", "5"))), 0));
        assertEquals(5, s.lines.size(), s.lines.toString());
        assertTrue(s.lines.get(4).contains("\"rev\":5"), s.lines.toString());

        // a snapshot with the same history again: nothing is reported twice
        kv.restore(KvMachine.restore(masterStore(KvLimits.defaults(), 4).snapshot(), KvLimits.defaults()));
        assertEquals(5, s.lines.size(), s.lines.toString());
        assertTrue(s.open());
        // a snapshot whose history no longer reaches back to what the watch needs next: it ends (exit 4)
        KvLimits shortHistory = new KvLimits(KvLimits.DEFAULT_MAX_BYTES, 1, 1 << 20);
        kv.restore(KvMachine.restore(masterStore(shortHistory, 9).snapshot(), shortHistory));
        assertFalse(s.open());
        assertTrue(s.lines.get(s.lines.size() - 1).startsWith("{\"id\":1,\"exit\":4,\"error\":\"revision 6 is compacted; the oldest available is 9"),
                s.lines.toString());
    }
}
